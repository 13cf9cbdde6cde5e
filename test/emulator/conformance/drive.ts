/**
 * One boto3 child process per test file: starts an emulator on a fresh state
 * folder, feeds drive.py the whole call sequence, and returns each call's
 * answer by id.
 */
import {spawn} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

const script = join(dirname(fileURLToPath(import.meta.url)), 'drive.py')

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface Call {
  id: string
  service: 's3' | 'iam' | 'sts' | 'secretsmanager' | 'cloudformation'
  op: string
  params?: Record<string, unknown>
  /** Fill the required input members from the model (probing unserved operations). */
  minimal?: boolean
  /** With minimal: values for whichever of these members the input has. */
  defaults?: Record<string, unknown>
  /** Call again while it fails with this code, as a client polling eventual state does (AWS's waiters do): at most times, ms apart. */
  retry?: {code: string; times: number; ms: number}
  /** Another identity than the admin key pair; values may be ${id:Path} references. */
  creds?: Record<keyof Credentials, string> | Omit<Record<keyof Credentials, string>, 'sessionToken'>
}

export interface Answer {
  id: string
  op: string
  ok: boolean
  status?: number
  response?: Record<string, unknown>
  code?: string
  message?: string
  exception?: string
  /** Set when boto3 could not make the call or parse the answer. */
  crash?: string
}

/** A value taken from an earlier call's response when drive.py reaches this call: ref('key', 'AccessKey.AccessKeyId'). */
export const ref = (id: string, path: string) => `\${${id}:${path}}`

export interface Drive {
  server: RunningServer
  answers: Map<string, Answer>
  /** How long the python process took, sequence included. */
  millis: number
  stderr: string
}

/** Runs the calls in order through boto3 against a new emulator; the server stays up for the caller to close. */
export async function drive(calls: readonly Call[], options: {prepare?: (stateDir: string) => Promise<void>} = {}): Promise<Drive> {
  const work = await mkdtemp(join(tmpdir(), 'ncap-conformance-'))
  // What the state folder must hold before the emulator starts (EC2: a registered image folder).
  await options.prepare?.(join(work, 'state'))
  const server = await startServer({stateDir: join(work, 'state'), port: 0})
  const started = Date.now()
  const child = spawn('python3', [script], {
    env: {
      ...process.env,
      CONFORMANCE_ENDPOINT: server.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: join(work, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  child.stdin.end(JSON.stringify(calls))
  const code = await new Promise<number | null>((done) => child.on('close', done))
  const answers = new Map<string, Answer>()
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue
    const answer = JSON.parse(line) as Answer
    answers.set(answer.id, answer)
  }
  if (code !== 0) stderr = `drive.py exited with ${code}\n${stderr}`
  return {server, answers, millis: Date.now() - started, stderr}
}
