/**
 * `ncap invoke` on a pipeline made by `ncap init`: each of its simevents/ files
 * through the function it is for, in the emulator's Lambda worker, against an
 * emulator; the event from stdin; a failing handler exits 1 with its error.
 */
import {mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateBucketCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import type {Target} from '../../src/cloud/target.js'
import {type RunningServer, startServer} from '../../src/emulator/server.js'
import {findFunction, invokeFunction} from '../../src/jobs/invoke.js'
import {runCli} from '../helpers/cli.js'

let server: RunningServer
let answers: Server
let answerUrl = ''
let dir = ''
let target: Target
let s3: S3Client
const bucket = 'invoke-pipe'

test.before(async () => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-invoke-'))
  dir = join(work, bucket)
  const init = await runCli(['init', dir, '--name', bucket, '--group', 'lab:alice', '--json'], {env: {CI: 'true'}})
  if (init.code !== 0) throw new Error(init.stderr)
  server = await startServer({stateDir: join(work, 'state'), port: 0, log: () => {}})
  target = {kind: 'endpoint', endpoint: server.endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  answers = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end())
  })
  await new Promise<void>((done) => answers.listen(0, '127.0.0.1', done))
  const address = answers.address()
  answerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/answer`
})
test.after.always(async () => {
  await server?.close()
  answers?.close()
})

const FUNCTION_OF: Record<string, string> = {
  's3-put.json': 'SubmitFunction',
  's3-delete.json': 'SubmitFunction',
  'cfn-create.json': 'FoldersFunction',
  'cfn-update.json': 'FoldersFunction',
  'cfn-delete.json': 'FoldersFunction',
  'ec2-state-change.json': 'MonitorFunction',
  'ssm-command-status.json': 'MonitorFunction',
  'schedule.json': 'MonitorFunction',
}

test.serial("the function's settings come from the compiled template; what exists only once deployed is said", async (t) => {
  const {fn} = await findFunction(dir)
  t.is(fn.logicalId, 'SubmitFunction')
  t.is(fn.handler, 'index.handler')
  t.is(fn.runtime, 'nodejs22.x')
  t.true(fn.codeDir.endsWith('lambda_repo/submit_start'))
  const byName = await findFunction(dir, `${bucket}-monitor`)
  t.is(byName.fn.logicalId, 'MonitorFunction')
  await t.throwsAsync(findFunction(dir, 'Nope'), {message: /has no function Nope: its functions are .*SubmitFunction/})
})

test.serial('each file in simevents/ runs through its function in the Lambda worker', async (t) => {
  const files = (await readdir(join(dir, 'simevents'))).sort()
  t.deepEqual(files, Object.keys(FUNCTION_OF).sort())
  for (const file of files) {
    // The submit file the s3-put event names, as init's event describes it (cfn-delete emptied the bucket before).
    if (file === 's3-put.json') {
      const body = JSON.stringify({dataname: 'lab/inputs/data.txt', configname: 'lab/configs/config.yaml', timestamp: 'simulated'})
      await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/submissions/submit.json', Body: body}))
    }
    const event = JSON.parse(await readFile(join(dir, 'simevents', file), 'utf8'))
    if (event.ResponseURL) event.ResponseURL = answerUrl
    const report = await invokeFunction({dir, function: FUNCTION_OF[file], event, target})
    t.falsy(report.error, `${file}: ${JSON.stringify(report.error)}`)
    t.regex(report.logs, /START RequestId/, file)
    if (file === 's3-put.json') {
      // The data file is not there: the submit handler refuses, and says so in the job's certificate.
      t.like((report.result as {jobs: object[]}).jobs[0], {outcome: 'refused', jobId: `job__${bucket}_simulated`})
      t.true(report.notes.some((n) => /INSTANCE_PROFILE: Ref InstanceProfile names a resource that exists only once deployed/.test(n)))
    }
    if (file === 's3-delete.json') t.like((report.result as {jobs: object[]}).jobs[0], {outcome: 'ignored'})
    if (file === 'cfn-create.json') t.like(report.result, {Status: 'SUCCESS'})
    if (file === 'schedule.json') t.deepEqual(report.result, {instances: []})
  }
})

test.serial('the CLI: the event from stdin, result on stdout and logs on stderr; a failing handler exits 1 with its error', async (t) => {
  const event = await runCli(['generate-event', 's3-put', '--bucket', bucket, '--key', 'lab/submissions/x submit.json'])
  t.is(event.code, 0, event.stderr)
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/submissions/x submit.json', Body: '{not json'}))
  const ok = await runCli(['invoke', '--dir', dir, '--event', '-', '--endpoint-url', server.endpoint], {
    input: event.stdout,
    env: {AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test'},
  })
  t.is(ok.code, 0, ok.stderr)
  t.like(JSON.parse(ok.stdout).jobs[0], {outcome: 'refused'})
  t.regex(ok.stderr, /START RequestId/)
  t.regex(ok.stderr, /note: code: .*lambda_repo\/submit_start/)

  // A bucket that does not exist: the handler throws, invoke exits 1 with its error.
  const missing = await runCli(['generate-event', 's3-put', '--bucket', 'no-such-bucket'])
  const eventFile = join(dir, 'missing.json')
  await writeFile(eventFile, missing.stdout)
  const failed = await runCli(['invoke', 'SubmitFunction', '--dir', dir, '--event', eventFile, '--endpoint-url', server.endpoint], {
    env: {AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test'},
  })
  t.is(failed.code, 1)
  t.regex(failed.stderr, /Error: invoke-pipe-submit failed: NoSuchBucket: /)
  const usage = await runCli(['invoke', 'Nope', '--dir', dir, '--endpoint-url', server.endpoint])
  t.is(usage.code, 2)
  t.regex(usage.stderr, /has no function Nope/)
})
