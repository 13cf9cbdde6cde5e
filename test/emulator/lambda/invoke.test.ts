/**
 * Invoke through the real SDK v3 client: ESM and CommonJS, async and callback
 * handlers importing the AWS SDK v3 with the role's temporary credentials, the
 * environment and context AWS gives, errors with X-Amz-Function-Error, LogType
 * Tail, DryRun and Event, timeouts on the emulator's clock, the memory limit,
 * a pool that grows for overlapping invokes, Python, and the log lines sent to
 * CloudWatch Logs (through a stand-in for the Logs service, which is mocked).
 */
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import {hostPython} from '../../../src/emulator/services/lambda/runtimes.js'
import {decode, type Emulator, emulator, lambdaRole, rejects, zipOf} from './helpers.js'

let emu: Emulator
let role: string

test.before(async () => {
  emu = await emulator()
  role = await lambdaRole(emu.iam, 'invoke-role', {
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*'}],
  })
})
test.after.always(() => emu?.close())

async function make(name: string, files: Record<string, string>, extra: Partial<lambda.CreateFunctionCommandInput> = {}) {
  await emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await zipOf(files)},
      ...extra,
    }),
  )
}

const invoke = (FunctionName: string, event: unknown = {}, extra: Partial<lambda.InvokeCommandInput> = {}) =>
  emu.lambda.send(new lambda.InvokeCommand({FunctionName, Payload: Buffer.from(JSON.stringify(event)), ...extra}))

const ESM = `
import {STSClient, GetCallerIdentityCommand} from '@aws-sdk/client-sts'
export const handler = async (event, context) => {
  console.log('event', JSON.stringify(event))
  const me = await new STSClient({}).send(new GetCallerIdentityCommand({}))
  return {
    caller: me.Arn,
    context: {name: context.functionName, version: context.functionVersion, arn: context.invokedFunctionArn, memory: context.memoryLimitInMB,
      id: context.awsRequestId, group: context.logGroupName, stream: context.logStreamName, remaining: context.getRemainingTimeInMillis()},
    env: Object.fromEntries(['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'LAMBDA_TASK_ROOT', '_HANDLER', 'MINE',
      'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN'].map((k) => [k, process.env[k]])),
    node: process.version,
  }
}
`

test('an ESM handler calls STS with its role session; context, environment and Tail logs as AWS gives them', async (t) => {
  await make('esm', {'index.mjs': ESM}, {MemorySize: 256, Timeout: 30, Environment: {Variables: {MINE: 'yes'}}})
  const answer = await invoke('esm', {hello: 'world'}, {LogType: 'Tail'})
  t.is(answer.StatusCode, 200)
  t.is(answer.FunctionError, undefined)
  t.is(answer.ExecutedVersion, '$LATEST')
  const body = decode(answer.Payload)
  t.is(body.caller, 'arn:aws:sts::000000000000:assumed-role/invoke-role/esm')
  t.is(body.context.name, 'esm')
  t.is(body.context.version, '$LATEST')
  t.is(body.context.arn, 'arn:aws:lambda:us-east-1:000000000000:function:esm')
  t.is(body.context.memory, '256')
  t.regex(body.context.id, /^[0-9a-f-]{36}$/)
  t.is(body.context.group, '/aws/lambda/esm')
  t.regex(body.context.stream, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/)
  t.true(body.context.remaining > 25_000 && body.context.remaining <= 30_000)
  t.is(body.env.AWS_REGION, 'us-east-1')
  t.is(body.env.AWS_DEFAULT_REGION, 'us-east-1')
  t.is(body.env.AWS_ENDPOINT_URL, emu.server.endpoint)
  t.is(body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256')
  t.is(body.env._HANDLER, 'index.handler')
  t.is(body.env.MINE, 'yes')
  t.regex(body.env.AWS_ACCESS_KEY_ID, /^ASIA/)
  t.truthy(body.env.AWS_SESSION_TOKEN)
  t.is(body.node, process.version)
  const tail = Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8')
  t.regex(tail, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/)
  t.regex(tail, /\tINFO\tevent \{"hello":"world"\}/)
  t.regex(tail, /END RequestId: /)
  t.regex(
    tail,
    /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/,
  )
  t.regex(tail, /INIT_START Runtime Version: nodejs22\.x on the host's Node v\d+/)
  t.is(answer.$metadata.httpStatusCode, 200)
  // The second invoke is warm: no Init Duration.
  const warm = await invoke('esm', {}, {LogType: 'Tail'})
  t.notRegex(Buffer.from(warm.LogResult ?? '', 'base64').toString('utf8'), /Init Duration/)
  // The lines reached CloudWatch Logs under /aws/lambda/esm, one stream per worker.
  const lines = emu.logs.filter((line) => line.group === '/aws/lambda/esm')
  t.true(lines.some((line) => line.message.startsWith('REPORT RequestId:')))
  t.true(lines.every((line) => /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/.test(line.stream)))
  t.is(new Set(lines.map((line) => line.stream)).size, 1)
})

test('CommonJS callback handlers and a package.json "type": "module" .js file both answer; require finds @aws-sdk', async (t) => {
  await make('cjs', {
    'index.js':
      "const {S3Client} = require('@aws-sdk/client-s3')\nexports.handler = (event, context, callback) => callback(null, {s3: typeof S3Client, n: event.n + 1})\n",
  })
  t.deepEqual(decode((await invoke('cjs', {n: 1})).Payload), {s3: 'function', n: 2})
  await make(
    'typed',
    {'package.json': '{"type":"module"}', 'src/app.js': 'export const go = async (e) => ({typed: e.v})\n'},
    {Handler: 'src/app.go'},
  )
  t.deepEqual(decode((await invoke('typed', {v: 3})).Payload), {typed: 3})
})

test('a handler that throws answers 200 with X-Amz-Function-Error Unhandled and AWS error shape; bad handlers report Runtime errors', async (t) => {
  await make('throws', {'index.mjs': "export const handler = async () => { throw new TypeError('no good') }\n"})
  const answer = await invoke('throws')
  t.is(answer.StatusCode, 200)
  t.is(answer.FunctionError, 'Unhandled')
  const error = decode(answer.Payload)
  t.is(error.errorType, 'TypeError')
  t.is(error.errorMessage, 'no good')
  t.true(Array.isArray(error.trace))
  await make('missing-file', {'other.mjs': 'export const handler = async () => 1\n'})
  const missing = await invoke('missing-file')
  t.is(missing.FunctionError, 'Unhandled')
  t.is(decode(missing.Payload).errorType, 'Runtime.ImportModuleError')
  await make('missing-export', {'index.mjs': 'export const other = async () => 1\n'})
  t.is(decode((await invoke('missing-export')).Payload).errorType, 'Runtime.HandlerNotFound')
})

test('DryRun answers 204 and Event 202; the event runs asynchronously', async (t) => {
  await make('marks', {
    'index.mjs': 'let seen = 0\nexport const handler = async (e) => { seen += 1; console.log("seen", e.mark, seen); return seen }\n',
  })
  const dry = await invoke('marks', {}, {InvocationType: 'DryRun'})
  t.is(dry.StatusCode, 204)
  const queued = await invoke('marks', {mark: 'async-1'}, {InvocationType: 'Event'})
  t.is(queued.StatusCode, 202)
  const deadline = Date.now() + 15_000
  while (!emu.logs.some((line) => line.message.includes('seen async-1')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  t.true(emu.logs.some((line) => line.message.includes('seen async-1')))
  await rejects(t, invoke('marks', {}, {InvocationType: 'Event', Payload: Buffer.alloc(1_100_000, 32)}), 'RequestTooLargeException', 413)
  await rejects(t, invoke('marks', {}, {Payload: Buffer.from('{not json')}), 'InvalidRequestContentException', 400)
})

test.serial('a timeout on the emulator clock kills the worker: "<id> Task timed out after 3.00 seconds"', async (t) => {
  await make(
    'sleeps',
    {'index.mjs': 'export const handler = () => new Promise((done) => setTimeout(() => done("late"), 600_000))\n'},
    {Timeout: 3},
  )
  // Warm it first so the clock advance lands during the invocation proper.
  const pending = invoke('sleeps', {}, {LogType: 'Tail'})
  await new Promise((r) => setTimeout(r, 1500))
  await emu.server.clock.advance(5_000)
  const answer = await pending
  t.is(answer.FunctionError, 'Unhandled')
  const error = decode(answer.Payload)
  t.regex(error.errorMessage, /[0-9a-f-]{36} Task timed out after 3\.00 seconds$/)
  t.regex(Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8'), /Task timed out after 3\.00 seconds/)
})

test('a worker past its MemorySize is killed with Runtime.OutOfMemory; the next invoke gets a new worker', async (t) => {
  await make(
    'hog',
    {
      'index.mjs':
        'const keep = []\nexport const handler = async (e) => { if (!e.hog) return "fine"; for (;;) { keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 2)) } }\n',
    },
    {MemorySize: 128, Timeout: 60},
  )
  const answer = await invoke('hog', {hog: true}, {LogType: 'Tail'})
  t.is(answer.FunctionError, 'Unhandled')
  const error = decode(answer.Payload)
  t.is(error.errorType, 'Runtime.OutOfMemory')
  t.regex(error.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed$/)
  t.regex(Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8'), /Max Memory Used: 1[2-9]\d MB|Max Memory Used: [2-9]\d\d MB/)
  t.is(decode((await invoke('hog', {})).Payload), 'fine')
})

test('overlapping invokes are all answered by a pool that grows past one warm worker', async (t) => {
  await make('overlap', {
    'index.mjs': 'export const handler = async (e, c) => { await new Promise((r) => setTimeout(r, 400)); return c.logStreamName }\n',
  })
  const streams = await Promise.all(Array.from({length: 6}, (_, i) => invoke('overlap', {i}).then((a) => decode(a.Payload))))
  t.is(streams.length, 6)
  t.true(new Set(streams).size > 1, `streams: ${[...new Set(streams)].join(', ')}`)
})

test.serial('workers see the emulator clock: Date.now() in the handler follows an advance', async (t) => {
  await make('clock', {'index.mjs': 'export const handler = async () => Date.now()\n'})
  const before = decode((await invoke('clock')).Payload) as number
  await emu.server.clock.advance(3_600_000)
  const after = decode((await invoke('clock')).Payload) as number
  t.true(after - before >= 3_600_000, `${after - before}`)
  t.true(Math.abs(after - emu.server.clock.now()) < 5_000)
})

const python = hostPython()
const pyTest = python ? test : test.skip
pyTest(`a Python handler answers with its context (python3.12 on the host's ${python ?? 'missing python3'})`, async (t) => {
  await make(
    'py',
    {
      'app.py':
        'import os\ndef handler(event, context):\n    print("py event", event)\n    return {"n": event["n"] * 2, "name": context.function_name, "left": context.get_remaining_time_in_millis() > 0, "region": os.environ["AWS_REGION"]}\n',
    },
    {Runtime: 'python3.12', Handler: 'app.handler'},
  )
  const answer = await invoke('py', {n: 21}, {LogType: 'Tail'})
  t.deepEqual(decode(answer.Payload), {n: 42, name: 'py', left: true, region: 'us-east-1'})
  t.regex(Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8'), /py event \{'n': 21\}/)
  await make(
    'py-raise',
    {'app.py': 'def handler(event, context):\n    raise ValueError("bad input")\n'},
    {Runtime: 'python3.12', Handler: 'app.handler'},
  )
  const failed = await invoke('py-raise')
  t.is(failed.FunctionError, 'Unhandled')
  t.like(decode(failed.Payload), {errorType: 'ValueError', errorMessage: 'bad input'})
})

test('python3.11 is refused for creation since 2026-07-31 as AWS refuses it', async (t) => {
  await rejects(
    t,
    make('py311', {'app.py': ''}, {Runtime: 'python3.11', Handler: 'app.handler'}),
    'InvalidParameterValueException',
    400,
    /python3\.11 is no longer supported/,
  )
})

test.serial('a handler that never finishes loading is killed after the init limit: nothing waits forever', async (t) => {
  await make(
    'never-loads',
    {'index.mjs': 'await new Promise(() => setInterval(() => {}, 1000))\nexport const handler = async () => 1\n'},
    {Timeout: 1},
  )
  const pending = invoke('never-loads')
  await new Promise((r) => setTimeout(r, 1500))
  await emu.server.clock.advance(12_000)
  const answer = await pending
  t.is(answer.FunctionError, 'Unhandled')
  t.like(decode(answer.Payload), {errorType: 'Sandbox.Timedout', errorMessage: 'The init phase did not finish within 11.00 seconds'})
})
