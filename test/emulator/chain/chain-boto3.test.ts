/**
 * The whole chain again, driven by boto3 (chain_boto3.py): the same two Node
 * functions, the S3 notification, the EventBridge rule, the instance profile.
 */
import {execFile} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {makeImageFolder} from '../ec2/helpers.js'
import {SUBMIT, WATCH} from './handlers.js'

let server: RunningServer
let work: string
let imageId: string

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ncap-chain-boto3-'))
  const stateDir = join(work, 'state')
  imageId = (await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'chain-image'})).ImageId
  server = await startServer({stateDir, port: 0, log: () => {}})
})

test.afterEach.always(async (t) => {
  if (t.passed) return
  const {readEvents} = await import('../../../src/emulator/event-record.js')
  await server.events.drain()
  for (const e of await readEvents(join(work, 'state')))
    t.log(`${e.time} ${e.service} ${e.kind} ${e.outcome} ${e.summary} ${e.reason ?? ''}`)
})

test.after.always(async () => {
  await server?.close()
  await rm(work, {recursive: true, force: true, maxRetries: 5})
})

test('boto3: S3 upload → Lambda → RunInstances → SSM command writes a result and powers off → both state changes reach a second Lambda', async (t) => {
  const script = join(import.meta.dirname, 'chain_boto3.py')
  const out = await new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
    const child = execFile('python3', [script, server.endpoint, imageId], {timeout: 160_000}, (error, stdout, stderr) =>
      resolve({code: error ? 1 : 0, stdout, stderr}),
    )
    child.stdin!.end(`${SUBMIT}\n----\n${WATCH}`)
  })
  t.is(out.code, 0, out.stderr)
  const {result, states} = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as {result: string; states: string[]}
  t.is(result, 'run.sh ran in /home/ubuntu with chain-boto3 inputs/data.txt\n')
  t.deepEqual(states, ['shutting-down', 'terminated'])
})
