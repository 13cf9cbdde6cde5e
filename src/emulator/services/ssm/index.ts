/**
 * The SSM service (signing name `ssm`, JSON 1.1, target prefix AmazonSSM): Run
 * Command through the instances' sandboxes and Parameter Store. State is kept
 * in `${stateDir}/ssm/state.json` (0600: it holds SecureString ciphertext) with
 * the SecureString key beside it (`key`, 0600); every change is written
 * atomically.
 */
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {readJsonIfExists, writeFileAtomic, writeJsonAtomic} from '../../../store/atomic.js'
import {runningSandbox, runningSandboxes} from '../../instances/index.js'
import type {ServiceEnvironment, ServiceFactory} from '../../types.js'
import {CommandEngine, type CommandRecord} from './commands.js'
import {SsmService, type SsmState} from './handler.js'
import {type ParameterRecord, ParameterStore} from './parameters.js'

interface Saved {
  parameters: Record<string, ParameterRecord>
  commands: CommandRecord[]
}

/** Commands are listed for 30 days, as AWS keeps their history. */
const COMMAND_RETENTION_MS = 30 * 86_400_000

async function keyOf(dir: string): Promise<Buffer> {
  const path = join(dir, 'key')
  try {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')
    if (key.length === 32) return key
  } catch {
    // First start: make one.
  }
  const key = randomBytes(32)
  await writeFileAtomic(path, key.toString('base64'), 0o600)
  return key
}

/** Uploads an output file to S3 as the instance's role (its metadata credentials), as the agent on the instance does. */
async function uploadAsInstance(env: ServiceEnvironment, region: string, instanceId: string, bucket: string, key: string, body: string) {
  const sandbox = runningSandbox(instanceId)
  const credentials = await sandbox?.roleCredentials().catch(() => undefined)
  if (!credentials) return `the instance ${instanceId} has no role credentials to write s3://${bucket}/${key} with`
  const {S3Client, PutObjectCommand} = await import('@aws-sdk/client-s3')
  const client = new S3Client({
    region,
    endpoint: env.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
  })
  try {
    await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain'}))
    return undefined
  } catch (error) {
    const named = error as {name?: string; message?: string}
    return `${named.name ?? 'Error'}: ${named.message ?? String(error)}`
  } finally {
    client.destroy()
  }
}

const ssmService: ServiceFactory = async (env) => {
  const dir = join(env.stateDir, 'ssm')
  await mkdir(dir, {recursive: true})
  const path = join(dir, 'state.json')
  const saved = (await readJsonIfExists<Saved>(path)) ?? {parameters: {}, commands: []}
  const horizon = env.clock.now() - COMMAND_RETENTION_MS
  const data: Saved = {
    parameters: saved.parameters ?? {},
    commands: (saved.commands ?? []).filter((command) => command.RequestedDateTime > horizon),
  }
  const parameters = new ParameterStore(data.parameters, await keyOf(dir))
  let writing: Promise<void> = Promise.resolve()
  let pending = false
  const save = () => {
    if (pending) return writing
    pending = true
    writing = writing.then(async () => {
      pending = false
      await writeJsonAtomic(path, data, 0o600).catch(() => undefined)
    })
    return writing
  }
  const state: SsmState = {
    parameters,
    engine: undefined as unknown as CommandEngine,
    changed: () => void save(),
    flush: () => save(),
    candidates: () => runningSandboxes().map((sandbox) => sandbox.spec.instanceId),
  }
  state.engine = new CommandEngine(data.commands, {
    env,
    changed: state.changed,
    candidates: state.candidates,
    upload: (region, instanceId, bucket, key, body) => uploadAsInstance(env, region, instanceId, bucket, key, body),
  })
  return new SsmService(state, env)
}

export default ssmService
