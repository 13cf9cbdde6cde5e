/**
 * EventBridge benchmarks, each beside a baseline measured in this same run (DESIGN §8):
 *  - start to first answer (spawn → a signed DescribeEventBus, which loads the events service) vs `node -e 0`;
 *  - PutEvents round trip through the SDK vs a bare node:http server answering the same client;
 *  - PutEvents → a matching Lambda target starting: with a fake Lambda (the bus alone) and with a real
 *    warm Node function (its handler's first line, timed on the shared wall clock);
 *  - schedules: one rate(5 minutes) rule firing after a 6-minute advance, and 20 rate(1 minute) rules
 *    through a 60-minute advance (1200 firings), in ms per firing.
 * Figures only, never pass/fail. BENCH_STARTS (5), BENCH_EVENTS (200).
 * Run: node --import=tsx bench/events.ts
 */
import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildEmulatorMain, fmt, median, printTable, timeCommand} from './measure.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const {EventBridgeClient, DescribeEventBusCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand} = await import(
  '@aws-sdk/client-eventbridge'
)
const {startServer} = await import('../src/emulator/server.js')
const {fakeLambda} = await import('../test/emulator/events/fake-lambda.js')

const STARTS = Number(process.env.BENCH_STARTS ?? 5)
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200)
const _root = fileURLToPath(new URL('..', import.meta.url))
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-events-'))
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const clientFor = (endpoint: string) => new EventBridgeClient({endpoint, region: 'us-east-1', credentials, maxAttempts: 1})
const nowMs = () => performance.timeOrigin + performance.now()

/** As bench/emulator.ts does: compile main.ts with tsc into node_modules/.cache, so start-up is not tsx's. */
const buildMain = () => buildEmulatorMain('ncap-bench-events', ['src/emulator/services/events/index.ts'])

async function benchStart(): Promise<void> {
  const main = buildMain()
  const baseline = timeCommand(process.execPath, ['-e', '0'], STARTS)
  const times: number[] = []
  for (let i = 0; i < STARTS; i++) {
    const stateDir = await mkdtemp(join(work, 'start-'))
    const started = nowMs()
    const child = spawn(process.execPath, [...main.args, '--state-dir', stateDir, '--port', '0'], {stdio: ['ignore', 'pipe', 'inherit']})
    const endpoint = await new Promise<string>((done, fail) => {
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        out += text
        const match = /listening at (http:\/\/\S+),/.exec(out)
        if (match?.[1]) done(match[1])
      })
      child.once('exit', (code) => fail(new Error(`emulator exited ${code} before listening`)))
    })
    const client = clientFor(endpoint)
    for (;;) {
      try {
        await client.send(new DescribeEventBusCommand({}))
        break
      } catch {
        await new Promise((r) => setTimeout(r, 2))
      }
    }
    times.push(nowMs() - started)
    client.destroy()
    const gone = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await gone
  }
  printTable(`start to first answer (median of ${STARTS}; main from ${main.from})`, [
    ['what', 'ms', 'ratio to node -e 0'],
    ['node -e 0', fmt(baseline), '1.0'],
    ['emulator: spawn → signed DescribeEventBus answered', fmt(median(times)), fmt(median(times) / baseline, 2)],
  ])
}

async function bareRoundTrip(): Promise<number> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {'content-type': 'application/x-amz-json-1.1'})
      res.end('{"FailedEntryCount":0,"Entries":[{"EventId":"x"}]}')
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const client = clientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const times: number[] = []
  for (let i = 0; i < EVENTS + 20; i++) {
    const t0 = nowMs()
    await client.send(new PutEventsCommand({Entries: [{Source: 'bench', DetailType: 'x', Detail: '{}'}]}))
    if (i >= 20) times.push(nowMs() - t0)
  }
  client.destroy()
  server.close()
  return median(times)
}

async function benchDelivery(): Promise<void> {
  // The bare server is measured before and after the emulator, and the faster median kept (the client warms up too).
  const bareBefore = await bareRoundTrip()
  const lambda = fakeLambda(['target'])
  const server = await startServer({stateDir: join(work, 'fake'), port: 0, services: {lambda: lambda.factory}, log: () => {}})
  const client = clientFor(server.endpoint)
  await client.send(new PutRuleCommand({Name: 'bench', EventPattern: JSON.stringify({source: ['bench']})}))
  await client.send(
    new PutTargetsCommand({Rule: 'bench', Targets: [{Id: 'fn', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:target'}]}),
  )
  const roundTrips: number[] = []
  const starts: number[] = []
  for (let i = 0; i < EVENTS + 20; i++) {
    const invoked = lambda.next().then(() => nowMs())
    const t0 = nowMs()
    await client.send(new PutEventsCommand({Entries: [{Source: 'bench', DetailType: 'x', Detail: `{"i": ${i}}`}]}))
    const answered = nowMs()
    const at = await invoked
    if (i >= 20) {
      roundTrips.push(answered - t0)
      starts.push(at - t0)
    }
  }
  client.destroy()
  await server.close()
  const bare = Math.min(bareBefore, await bareRoundTrip())

  const real = await realLambdaStart().catch((error: Error) => {
    console.log(`(real Lambda row skipped: ${error.message})`)
    return undefined
  })
  printTable(`PutEvents and delivery (median of ${EVENTS}, SDK v3 client, sequential)`, [
    ['what', 'ms', 'ratio to bare node:http'],
    ['bare node:http answering PutEvents', fmt(bare, 2), '1.0'],
    ['emulator: PutEvents answered', fmt(median(roundTrips), 2), fmt(median(roundTrips) / bare, 2)],
    ['emulator: PutEvents → fake Lambda target invoked', fmt(median(starts), 2), fmt(median(starts) / bare, 2)],
    ...(real ? [['emulator: PutEvents → real warm Node handler started', fmt(real, 2), fmt(real / bare, 2)]] : []),
  ])
}

/** PutEvents → the first line of a real, warm nodejs22.x handler (it appends its start time to a file). */
async function realLambdaStart(): Promise<number> {
  const lambdaSdk = await import('@aws-sdk/client-lambda')
  const iamSdk = await import('@aws-sdk/client-iam')
  const {zipOf} = await import('../test/emulator/lambda/helpers.js')
  const server = await startServer({stateDir: join(work, 'real'), port: 0, log: () => {}})
  const config = {endpoint: server.endpoint, region: 'us-east-1', credentials}
  const lambda = new lambdaSdk.LambdaClient(config)
  const iam = new iamSdk.IAMClient(config)
  const events = clientFor(server.endpoint)
  const marks = join(work, 'marks.txt')
  writeFileSync(marks, '')
  try {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
    })
    const role = (await iam.send(new iamSdk.CreateRoleCommand({RoleName: 'bench', AssumeRolePolicyDocument: trust}))).Role!.Arn!
    const code = `import {appendFileSync} from 'node:fs'\nexport const handler = async (event) => { appendFileSync(process.env.MARKS, event.detail.i + ' ' + (performance.timeOrigin + performance.now()) + '\\n'); return {} }\n`
    const fn = await lambda.send(
      new lambdaSdk.CreateFunctionCommand({
        FunctionName: 'bench',
        Runtime: 'nodejs22.x',
        Role: role,
        Handler: 'index.handler',
        Code: {ZipFile: await zipOf({'index.mjs': code})},
        Environment: {Variables: {MARKS: marks}},
      }),
    )
    const rule = await events.send(new PutRuleCommand({Name: 'bench', EventPattern: JSON.stringify({source: ['bench']})}))
    await lambda.send(
      new lambdaSdk.AddPermissionCommand({
        FunctionName: 'bench',
        StatementId: 'ev',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: rule.RuleArn,
      }),
    )
    await events.send(new PutTargetsCommand({Rule: 'bench', Targets: [{Id: 'fn', Arn: fn.FunctionArn!}]}))
    const count = Math.min(EVENTS, 100)
    const starts: number[] = []
    for (let i = 0; i < count + 5; i++) {
      const t0 = nowMs()
      await events.send(new PutEventsCommand({Entries: [{Source: 'bench', DetailType: 'x', Detail: `{"i": ${i}}`}]}))
      let at: number | undefined
      const deadline = Date.now() + 30_000
      while (at === undefined && Date.now() < deadline) {
        const line = readFileSync(marks, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(`${i} `))
        if (line) at = Number(line.split(' ')[1])
        else await new Promise((r) => setTimeout(r, 0.5))
      }
      if (at === undefined) throw new Error(`event ${i} never reached the handler`)
      if (i >= 5) starts.push(at - t0)
    }
    return median(starts)
  } finally {
    lambda.destroy()
    iam.destroy()
    events.destroy()
    await server.close()
  }
}

async function benchSchedules(): Promise<void> {
  const lambda = fakeLambda(['tick'])
  const server = await startServer({stateDir: join(work, 'schedules'), port: 0, services: {lambda: lambda.factory}, log: () => {}})
  const client = clientFor(server.endpoint)
  const target = [{Id: 'fn', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:tick'}]
  await client.send(new PutRuleCommand({Name: 'five', ScheduleExpression: 'rate(5 minutes)'}))
  await client.send(new PutTargetsCommand({Rule: 'five', Targets: target}))
  const t0 = nowMs()
  await server.clock.advance(6 * 60_000)
  const one = nowMs() - t0
  const firstFired = lambda.calls.length
  await client.send(new PutRuleCommand({Name: 'five', ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED'}))
  for (let i = 0; i < 20; i++) {
    await client.send(new PutRuleCommand({Name: `minute-${i}`, ScheduleExpression: 'rate(1 minute)'}))
    await client.send(new PutTargetsCommand({Rule: `minute-${i}`, Targets: target}))
  }
  const before = lambda.calls.length
  const t1 = nowMs()
  const result = await server.clock.advance(60 * 60_000)
  const many = nowMs() - t1
  const fired = lambda.calls.length - before
  client.destroy()
  await server.close()
  printTable('schedules on the emulator clock (fake Lambda target)', [
    ['what', 'ms', 'firings', 'ms per firing'],
    ['advance 6m over one rate(5 minutes) rule', fmt(one, 2), String(firstFired), fmt(one / Math.max(1, firstFired), 2)],
    ['advance 60m over 20 rate(1 minute) rules', fmt(many, 1), `${fired} (${result.fired} timers)`, fmt(many / Math.max(1, fired), 3)],
  ])
}

try {
  await benchStart()
  await benchDelivery()
  await benchSchedules()
} finally {
  await rm(work, {recursive: true, force: true})
}
