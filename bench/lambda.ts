/**
 * Lambda benchmarks, each beside a baseline measured in this same run (DESIGN §8):
 *   warm invoke through the SDK v3 LambdaClient (median) vs a bare node:http echo server
 *     driven by the same client (the floor any server can reach with that client);
 *   cold invoke (a new worker: spawn + handler load + first answer, forced by a
 *     configuration change) vs spawning `node -e 0`, on an emulator started with
 *     NCAP_LAMBDA_WARM=lazy (workers start at the first invoke, as on AWS);
 *   the first invoke after a configuration change with the default EAGER warm-up (the
 *     update starts the new worker, as SAM CLI's --warm-containers EAGER): what a
 *     deployed function's first event waits for on the emulator, not a cold start;
 *   100 overlapping invokes of one function: wall time, all answered, the emulator's
 *     peak RSS and how many workers the pool grew to;
 *   emulator start to first answer on a state folder holding Lambda functions vs `node -e 0`
 *     (Lambda must not load before the first answer).
 * The emulator runs as its own process (a tsc build of src/ in node_modules/.cache, as
 * bench/emulator.ts does; BENCH_MAIN=tsx runs src/ through tsx), so its RSS is its own.
 * Figures only, never pass/fail. BENCH_WARM (300), BENCH_COLD (7), BENCH_OVERLAP (100).
 * Run: node --import=tsx bench/lambda.ts
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yazl from 'yazl'
import {buildEmulatorMain, fmt, median, printTable, timeCommand} from './measure.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const lambda = await import('@aws-sdk/client-lambda')
const iam = await import('@aws-sdk/client-iam')

const env = process.env
const WARM = Number(env.BENCH_WARM ?? 300)
const COLD = Number(env.BENCH_COLD ?? 7)
const OVERLAP = Number(env.BENCH_OVERLAP ?? 100)
const _root = fileURLToPath(new URL('..', import.meta.url))
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-lambda-'))
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

const buildMain = () => buildEmulatorMain('ncap-bench-lambda')

function freePort(): Promise<number> {
  return new Promise((done) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as AddressInfo
      probe.close(() => done(port))
    })
  })
}

function answers(endpoint: string): Promise<boolean> {
  return fetch(`${endpoint}/`).then(
    () => true,
    () => false,
  )
}

interface Emulator {
  endpoint: string
  child: ChildProcess
  msToAnswer: number
}

async function startEmulator(main: string[], stateDir: string, extraEnv: Record<string, string> = {}): Promise<Emulator> {
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const started = performance.now()
  const child = spawn(process.execPath, [...main, '--state-dir', stateDir, '--port', String(port)], {
    stdio: 'ignore',
    env: {...process.env, ...extraEnv},
  })
  children.add(child)
  for (;;) {
    if (await answers(endpoint)) break
    if (child.exitCode !== null) throw new Error('the emulator exited before answering')
    await sleep(2)
  }
  return {endpoint, child, msToAnswer: performance.now() - started}
}

async function stop(emulator: Emulator): Promise<void> {
  const gone = new Promise<void>((done) => emulator.child.once('exit', () => done()))
  emulator.child.kill('SIGTERM')
  await gone
  children.delete(emulator.child)
}

const statusKb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN)

function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), name)
  zip.end()
  return new Promise((done) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk))
    zip.outputStream.on('end', () => done(Buffer.concat(chunks)))
  })
}

async function timeInvokes(client: InstanceType<typeof lambda.LambdaClient>, name: string, runs: number): Promise<number> {
  const payload = Buffer.from('{"n":1}')
  for (let i = 0; i < 20; i++) await client.send(new lambda.InvokeCommand({FunctionName: name, Payload: payload}))
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await client.send(new lambda.InvokeCommand({FunctionName: name, Payload: payload}))
    times.push(performance.now() - start)
  }
  return median(times)
}

try {
  const {args: main, from} = buildMain()
  const nodeZero = timeCommand(process.execPath, ['-e', '0'], 7)

  // The floor: a bare node:http server that echoes the payload, driven by the same SDK client.
  const echo = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': body.length, 'X-Amz-Executed-Version': '$LATEST'})
      res.end(body)
    })
  })
  await new Promise<void>((done) => echo.listen(0, '127.0.0.1', () => done()))
  const echoEndpoint = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`
  const echoClient = new lambda.LambdaClient({endpoint: echoEndpoint, region: 'us-east-1', credentials})
  const echoMs = await timeInvokes(echoClient, 'echo', WARM)
  echoClient.destroy()
  echo.close()

  /** A client of an emulator, and a function maker with a role that Lambda may assume. */
  const setUp = async (endpoint: string) => {
    const config = {endpoint, region: 'us-east-1', credentials, maxAttempts: 1}
    const client = new lambda.LambdaClient(config)
    const admin = new iam.IAMClient(config)
    const role = await admin.send(
      new iam.CreateRoleCommand({
        RoleName: 'bench',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
        }),
      }),
    )
    admin.destroy()
    const make = async (name: string, code: string) => {
      await client.send(
        new lambda.CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Role: role.Role!.Arn!,
          Handler: 'index.handler',
          Timeout: 30,
          MemorySize: 256,
          Code: {ZipFile: await zipOf({'index.mjs': code})},
        }),
      )
    }
    return {client, make}
  }
  /** Each round changes the configuration (which retires the pool), waits `settleMs`, then times the next invoke. */
  const afterUpdates = async (client: InstanceType<typeof lambda.LambdaClient>, name: string, settleMs: number) => {
    const times: number[] = []
    for (let i = 0; i <= COLD; i++) {
      await client.send(new lambda.UpdateFunctionConfigurationCommand({FunctionName: name, Environment: {Variables: {ROUND: String(i)}}}))
      await sleep(settleMs)
      const start = performance.now()
      await client.send(new lambda.InvokeCommand({FunctionName: name, Payload: Buffer.from('{}')}))
      if (i > 0) times.push(performance.now() - start)
    }
    return median(times)
  }
  const echoHandler = 'export const handler = async (event) => event\n'

  // Cold: an emulator whose workers start at the first invoke (NCAP_LAMBDA_WARM=lazy), as on AWS.
  const lazy = await startEmulator(main, join(work, 'lazy'), {NCAP_LAMBDA_WARM: 'lazy'})
  const lazyClient = await setUp(lazy.endpoint)
  await lazyClient.make('warm', echoHandler)
  const coldMs = await afterUpdates(lazyClient.client, 'warm', 200)
  lazyClient.client.destroy()
  await stop(lazy)

  const stateDir = join(work, 'state')
  const emulator = await startEmulator(main, stateDir)
  const {client, make} = await setUp(emulator.endpoint)
  await make('warm', echoHandler)
  const warmMs = await timeInvokes(client, 'warm', WARM)
  // EAGER (the default): the update starts the new worker; 1 s later the first invoke finds it loaded.
  const eagerMs = await afterUpdates(client, 'warm', 1000)

  await make(
    'overlap',
    'export const handler = async (event, context) => { await new Promise((r) => setTimeout(r, 50)); return context.logStreamName }\n',
  )
  await client.send(new lambda.InvokeCommand({FunctionName: 'overlap', Payload: Buffer.from('{}')}))
  const rssBefore = statusKb(emulator.child.pid!, 'VmRSS')
  const overlapStart = performance.now()
  const results = await Promise.allSettled(
    Array.from({length: OVERLAP}, (_, i) =>
      client.send(new lambda.InvokeCommand({FunctionName: 'overlap', Payload: Buffer.from(`{"i":${i}}`)})),
    ),
  )
  const overlapMs = performance.now() - overlapStart
  const answered = results.filter((r) => r.status === 'fulfilled' && r.value.StatusCode === 200 && !r.value.FunctionError)
  const streams = new Set(
    answered.map((r) => Buffer.from((r as PromiseFulfilledResult<{Payload?: Uint8Array}>).value.Payload ?? []).toString()),
  )
  const peakKb = statusKb(emulator.child.pid!, 'VmHWM')
  client.destroy()
  await stop(emulator)

  // Start-up on a state folder that holds functions (Lambda loads only after the first answer), beside an empty one.
  const startOn = async (dir: string) => {
    const starts: number[] = []
    for (let i = 0; i < 5; i++) {
      const again = await startEmulator(main, dir)
      starts.push(again.msToAnswer)
      await stop(again)
    }
    return median(starts)
  }
  const startMs = await startOn(stateDir)
  const emptyStartMs = await startOn(join(work, 'empty'))

  printTable(`Lambda (emulator: ${from}; node ${process.version})`, [
    ['figure', 'ncap', 'baseline', 'ratio'],
    [
      `warm invoke, SDK v3, median of ${WARM}`,
      `${fmt(warmMs, 2)} ms`,
      `${fmt(echoMs, 2)} ms (node:http echo, same client)`,
      `${fmt(warmMs / echoMs, 2)}×`,
    ],
    [
      `cold invoke (new worker, NCAP_LAMBDA_WARM=lazy), median of ${COLD}`,
      `${fmt(coldMs)} ms`,
      `${fmt(nodeZero)} ms (node -e 0)`,
      `${fmt(coldMs / nodeZero, 2)}×`,
    ],
    [
      `first invoke 1 s after an update, EAGER warm-up (not a cold start), median of ${COLD}`,
      `${fmt(eagerMs)} ms`,
      `${fmt(coldMs)} ms (cold, the same update with NCAP_LAMBDA_WARM=lazy)`,
      `${fmt(eagerMs / coldMs, 2)}×`,
    ],
    [
      `${OVERLAP} overlapping invokes (50 ms handler)`,
      `${fmt(overlapMs)} ms wall, ${answered.length}/${OVERLAP} answered, ${streams.size} workers`,
      `RSS ${fmt(rssBefore / 1024)} MB before`,
      `peak RSS ${fmt(peakKb / 1024)} MB`,
    ],
    [
      'start to first answer, state with functions',
      `${fmt(startMs)} ms`,
      `${fmt(nodeZero)} ms (node -e 0)`,
      `${fmt(startMs / nodeZero, 2)}×`,
    ],
    [
      'start to first answer, empty state',
      `${fmt(emptyStartMs)} ms`,
      `${fmt(nodeZero)} ms (node -e 0)`,
      `${fmt(emptyStartMs / nodeZero, 2)}×`,
    ],
  ])
} finally {
  await rm(work, {recursive: true, force: true})
}
