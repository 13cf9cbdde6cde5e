import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'
import {AWS_V2, type AwsRun, hasAwsV2, runAwsV2} from '../../helpers/awscli.js'
import {fakeLogs, type LogLine, TRUST_LAMBDA, zipOf} from '../lambda/helpers.js'

const smoke = hasAwsV2 ? test.serial : test.skip
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 Lambda smoke tests: ${AWS_V2} is absent (apt-get install awscli).`)

let endpoint = ''
let work = ''
let close: (() => Promise<void>) | undefined
const logs: LogLine[] = []

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-lambda-'))
  const server = await startServer({stateDir: join(work, 'state'), port: 0, services: {logs: fakeLogs(logs)}, log: () => {}})
  endpoint = server.endpoint
  close = server.close
})
test.after.always(async () => {
  await close?.()
  if (work) await rm(work, {recursive: true, force: true})
})

type Run = AwsRun

const aws = (args: string[]): Promise<Run> => runAwsV2(endpoint, work, args)

async function ok(t: {is(a: unknown, b: unknown, m?: string): void}, args: string[]): Promise<Record<string, unknown>> {
  const run = await aws(args)
  t.is(run.code, 0, `aws ${args.join(' ')}: ${run.stderr}`)
  return run.stdout.trim() ? JSON.parse(run.stdout) : {}
}

smoke('aws lambda create-function from fileb://, wait function-active-v2, invoke with --log-type Tail', async (t) => {
  const role = (await ok(t, ['iam', 'create-role', '--role-name', 'cli-lambda', '--assume-role-policy-document', TRUST_LAMBDA])) as {
    Role: {Arn: string}
  }
  const zip = join(work, 'fn.zip')
  await writeFile(
    zip,
    await zipOf({
      'index.mjs': 'export const handler = async (event) => { console.log("cli says", event.name); return {hello: event.name} }\n',
    }),
  )
  const made = await ok(t, [
    'lambda',
    'create-function',
    '--function-name',
    'cli-fn',
    '--runtime',
    'nodejs22.x',
    '--role',
    role.Role.Arn,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${zip}`,
    '--timeout',
    '5',
  ])
  t.is(made.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn')
  t.is(made.State, 'Pending')
  await ok(t, ['lambda', 'wait', 'function-active-v2', '--function-name', 'cli-fn'])
  const out = join(work, 'out.json')
  const invoked = await ok(t, [
    'lambda',
    'invoke',
    '--function-name',
    'cli-fn',
    '--cli-binary-format',
    'raw-in-base64-out',
    '--payload',
    '{"name":"ncap"}',
    '--log-type',
    'Tail',
    out,
  ])
  t.is(invoked.StatusCode, 200)
  t.is(invoked.ExecutedVersion, '$LATEST')
  t.is(invoked.FunctionError, undefined)
  t.deepEqual(JSON.parse(await readFile(out, 'utf8')), {hello: 'ncap'})
  const tail = Buffer.from(String(invoked.LogResult), 'base64').toString('utf8')
  t.regex(tail, /INFO\tcli says ncap/)
  t.regex(tail, /REPORT RequestId: /)
  t.true(logs.some((line) => line.group === '/aws/lambda/cli-fn' && line.message.includes('cli says ncap')))
})

smoke('aws lambda invoke --invocation-type Event answers 202; a failing handler shows FunctionError', async (t) => {
  const out = join(work, 'event.json')
  const queued = await ok(t, [
    'lambda',
    'invoke',
    '--function-name',
    'cli-fn',
    '--invocation-type',
    'Event',
    '--cli-binary-format',
    'raw-in-base64-out',
    '--payload',
    '{"name":"later"}',
    out,
  ])
  t.is(queued.StatusCode, 202)
  const zip = join(work, 'bad.zip')
  await writeFile(zip, await zipOf({'index.mjs': 'export const handler = async () => { throw new RangeError("out of range") }\n'}))
  await ok(t, ['lambda', 'update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${zip}`])
  await ok(t, ['lambda', 'wait', 'function-updated-v2', '--function-name', 'cli-fn'])
  const failed = await ok(t, ['lambda', 'invoke', '--function-name', 'cli-fn', out])
  t.is(failed.FunctionError, 'Unhandled')
  t.like(JSON.parse(await readFile(out, 'utf8')), {errorType: 'RangeError', errorMessage: 'out of range'})
})

smoke('aws lambda add-permission, get-policy, remove-permission; errors the CLI prints by code', async (t) => {
  const added = await ok(t, [
    'lambda',
    'add-permission',
    '--function-name',
    'cli-fn',
    '--statement-id',
    'from-s3',
    '--action',
    'lambda:InvokeFunction',
    '--principal',
    's3.amazonaws.com',
    '--source-arn',
    'arn:aws:s3:::cli-bucket',
    '--source-account',
    '000000000000',
  ])
  t.is(JSON.parse(String(added.Statement)).Principal.Service, 's3.amazonaws.com')
  const policy = await ok(t, ['lambda', 'get-policy', '--function-name', 'cli-fn'])
  t.is(JSON.parse(String(policy.Policy)).Statement[0].Condition.ArnLike['AWS:SourceArn'], 'arn:aws:s3:::cli-bucket')
  await ok(t, ['lambda', 'remove-permission', '--function-name', 'cli-fn', '--statement-id', 'from-s3'])
  const missing = await aws(['lambda', 'get-function', '--function-name', 'cli-missing'])
  t.not(missing.code, 0)
  t.regex(missing.stderr, /ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:000000000000:function:cli-missing/)
  const old = await aws([
    'lambda',
    'create-function',
    '--function-name',
    'cli-old',
    '--runtime',
    'nodejs20.x',
    '--role',
    'arn:aws:iam::000000000000:role/cli-lambda',
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${join(work, 'fn.zip')}`,
  ])
  t.regex(old.stderr, /InvalidParameterValueException.*nodejs20\.x is no longer supported/)
  const listed = (await ok(t, ['lambda', 'list-functions'])) as {Functions: {FunctionName: string}[]}
  t.deepEqual(
    listed.Functions.map((f) => f.FunctionName),
    ['cli-fn'],
  )
  await ok(t, ['lambda', 'delete-function', '--function-name', 'cli-fn'])
})
