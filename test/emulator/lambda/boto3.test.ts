/**
 * boto3 (pyenv's Python) drives an S3-triggered Python Lambda end to end: the
 * notification is refused until the function allows s3 to invoke it, then an
 * upload of a key with spaces runs the function, which reads the object and
 * writes a result object with its role's credentials.
 */
import {execFile} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'
import {hostPython} from '../../../src/emulator/services/lambda/runtimes.js'
import {fakeLogs} from './helpers.js'

const script = join(dirname(fileURLToPath(import.meta.url)), 'boto3_s3_trigger.py')
const python = hostPython()

;(python ? test : test.skip)('boto3: an S3 upload triggers a python3.12 Lambda that writes its result object', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-lambda-boto3-'))
  const server = await startServer({stateDir: join(work, 'state'), port: 0, services: {logs: fakeLogs([])}, log: () => {}})
  t.teardown(async () => {
    await server.close()
    await rm(work, {recursive: true, force: true})
  })
  const seen: string[] = []
  server.events.subscribe((event) =>
    seen.push(`${event.kind} ${event.outcome}: ${event.summary}${event.reason ? ` — ${event.reason}` : ''}`),
  )
  const {stdout, stderr, code} = await new Promise<{stdout: string; stderr: string; code: number}>((done) => {
    execFile(
      'python3',
      [script, server.endpoint],
      {env: {...process.env, AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none')}},
      (error, out, err) => done({stdout: out, stderr: err, code: error ? 1 : 0}),
    )
  })
  t.is(code, 0, stderr)
  const report = JSON.parse(stdout)
  if (!report.result) t.log(seen.join('\n'))
  t.is(report.runtime, 'python3.12')
  t.regex(report.withoutPermission ?? '', /Unable to validate the following destination configurations/)
  t.deepEqual(report.result, {
    rawKey: 'in/my+data+file.txt',
    key: 'in/my data file.txt',
    words: 4,
    event: 'ObjectCreated:Put',
    by: 'arn:aws:sts::000000000000:assumed-role/py-trigger/py-trigger',
    fn: 'py-trigger',
  })
})
