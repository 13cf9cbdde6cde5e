/**
 * The emulator's benchmarks, each a ratio to a baseline measured in this same run
 * (DESIGN §8): start-to-first-answer vs `node -e 0`, for the emulator's main and for
 * `ncap emulator start` through the built CLI (bin/run.js, dist/ as `npm run bench` builds
 * it; oclif's own start-up, `ncap --version`, shown beside it); 1 KiB PUT+GET pairs at
 * concurrency 16 vs moto_server and the bare store (with the server's CPU time per
 * pair from /proc/<pid>/stat); a big PUT and GET vs `cp` and `cp`+`sync`, with the
 * emulator's peak RSS (big-transfer.ts). Each server is driven by the SDK v3 client (what users run) and
 * by a lean signed client (lean-client.ts: signatures made before the timed loop,
 * plain node:http): with both on the same 2 cores the SDK bounds small-object
 * throughput, so only the lean rows compare servers. Every row names its client.
 * Figures only, never pass/fail. Sizes: BENCH_BIG_MB (1024), BENCH_SMALL_SECONDS (10),
 * BENCH_SMALL_PAIRS (2000), BENCH_STARTS (5); BENCH_REPEAT (3) runs of each figure, medians shown;
 * BENCH_PARTS (start,small,big) picks some; BENCH_CLI, another checkout's bin/run.js for the
 * CLI rows; BENCH_EMULATOR_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed
 * to the emulator's node, to profile it under load.
 * Run: node --import=tsx bench/emulator.ts
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {startMoto} from '../test/helpers/moto.js'
import {benchBig} from './big-transfer.js'
import {LeanS3, type SignedRequest} from './lean-client.js'
import {buildEmulatorMain, fmt, median, printTable, timeCommand} from './measure.js'

// Before the SDK loads (hence the dynamic imports): its Node 20 notice would clutter the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const {CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client} = await import('@aws-sdk/client-s3')

const env = process.env
const BIG_MB = Number(env.BENCH_BIG_MB ?? 1024)
const SMALL_SECONDS = Number(env.BENCH_SMALL_SECONDS ?? 10)
const SMALL_PAIRS = Number(env.BENCH_SMALL_PAIRS ?? 2000)
const STARTS = Number(env.BENCH_STARTS ?? 5)
const REPEAT = Number(env.BENCH_REPEAT ?? 3)
const PARTS = new Set((env.BENCH_PARTS ?? 'start,small,big').split(','))
const CONCURRENCY = 16
const root = fileURLToPath(new URL('..', import.meta.url))
const {mainArgs, mainFrom} = buildMain()
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-'))
/** Every server this run spawns, killed if the run dies early (an error, a closed pipe). */
const children = new Set<ChildProcess>()
/** Emulators the CLI started detached (not our children): killed the same way. */
const detached = new Set<number>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  for (const pid of detached) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
})

/**
 * The emulator as shipped is compiled JS: tsc compiles main.ts and what it imports from
 * src/ into node_modules/.cache (packages resolve from there), so the figures are the
 * sources' even when dist/ is stale; BENCH_MAIN=dist uses dist/, BENCH_MAIN=tsx runs
 * src/ through tsx (start-up then mostly measures tsx).
 */
function buildMain(): {mainArgs: string[]; mainFrom: string} {
  const dist = join(root, 'dist', 'src', 'emulator', 'main.js')
  if (env.BENCH_MAIN === 'dist' && existsSync(dist)) return {mainArgs: [dist], mainFrom: 'dist/ (built)'}
  const {args, from} = buildEmulatorMain('ncap-bench')
  return {mainArgs: args, mainFrom: from}
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? Number.NaN)
}

const s3For = (endpoint: string, maxAttempts = 3) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const gone = new Promise<void>((done) => child.once('exit', () => done()))
  child.kill('SIGTERM')
  return gone
}

interface Emulator {
  endpoint: string
  pid: number
  child: ChildProcess
  msToAnswer: number
}

/** Spawns main.js on a free port and times spawn → first answered signed ListBuckets. */
async function spawnEmulator(): Promise<Emulator> {
  const stateDir = await mkdtemp(join(work, 'state-'))
  const started = process.hrtime.bigint()
  const nodeArgs = (env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, ...mainArgs, '--state-dir', stateDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  // main prints its endpoint once listening; until then the port is unknown.
  const endpoint = await new Promise<string>((done, fail) => {
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text
      const match = /listening at (http:\/\/\S+),/.exec(out)
      if (match?.[1]) done(match[1])
    })
    child.once('exit', (code) => fail(new Error(`emulator exited ${code} before listening`)))
  })
  await firstAnswer(endpoint, () => child.exitCode === null)
  const msToAnswer = Number(process.hrtime.bigint() - started) / 1e6
  return {endpoint, pid: child.pid!, child, msToAnswer}
}

/** Sends signed ListBuckets until one is answered (the first may race the server's start). */
async function firstAnswer(endpoint: string, alive: () => boolean): Promise<void> {
  const s3 = s3For(endpoint, 1)
  try {
    for (;;) {
      try {
        await s3.send(new ListBucketsCommand({}))
        return
      } catch (error) {
        if (!alive()) throw error
        await sleep(2)
      }
    }
  } finally {
    s3.destroy()
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** bin/run.js of this checkout, or BENCH_CLI: another checkout's (e.g. a build of an older commit, to compare). */
const cliEntry = env.BENCH_CLI ?? join(root, 'bin', 'run.js')
const cliRoot = join(cliEntry, '..', '..')
const cliBuilt = existsSync(join(cliRoot, 'dist', 'commands', 'emulator', 'start.js')) && existsSync(join(cliRoot, 'oclif.manifest.json'))

/** `ncap emulator start --port 0` through bin/run.js: spawn → the command returns, then → a signed ListBuckets answered. */
async function startThroughCli(): Promise<{msToReturn: number; msToAnswer: number; rssMb: number}> {
  const stateDir = await mkdtemp(join(work, 'cli-state-'))
  const started = process.hrtime.bigint()
  const cli = spawn(process.execPath, [cliEntry, 'emulator', 'start', '--state-dir', stateDir, '--port', '0', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  cli.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  const code = await new Promise<number | null>((done) => cli.once('close', done))
  const msToReturn = Number(process.hrtime.bigint() - started) / 1e6
  if (code !== 0) throw new Error(`ncap emulator start exited ${code}: ${out}`)
  const {endpoint, pid} = JSON.parse(out) as {endpoint: string; pid: number}
  detached.add(pid)
  await firstAnswer(endpoint, () => isAlive(pid))
  const msToAnswer = Number(process.hrtime.bigint() - started) / 1e6
  const rssMb = statusKb(pid, 'VmRSS') / 1024
  process.kill(pid, 'SIGTERM')
  while (isAlive(pid)) await sleep(5)
  detached.delete(pid)
  return {msToReturn, msToAnswer, rssMb}
}

async function benchStart(): Promise<void> {
  const baselines: number[] = []
  const oclifStarts: number[] = []
  const times: number[] = []
  const rss: number[] = []
  const cli: Awaited<ReturnType<typeof startThroughCli>>[] = []
  // Interleaved, baselines included, so a burst of load elsewhere on the machine touches each row alike.
  for (let i = 0; i < STARTS; i++) {
    baselines.push(timeCommand(process.execPath, ['-e', '0'], 1))
    const emulator = await spawnEmulator()
    times.push(emulator.msToAnswer)
    rss.push(statusKb(emulator.pid, 'VmRSS') / 1024)
    await stopChild(emulator.child)
    if (cliBuilt) {
      cli.push(await startThroughCli())
      oclifStarts.push(timeCommand(process.execPath, [cliEntry, '--version'], 1))
    }
  }
  const nodeBaseline = median(baselines)
  const ratio = (ms: number) => fmt(ms / nodeBaseline, 2)
  const rows = [
    ['what', 'ms', 'ratio to node -e 0', 'RSS after start (MB)'],
    ['node -e 0', fmt(nodeBaseline), '1.0', '-'],
    ['emulator main: spawn → signed ListBuckets answered', fmt(median(times)), ratio(median(times)), fmt(median(rss))],
  ]
  if (cliBuilt) {
    const oclif = median(oclifStarts)
    const returned = median(cli.map((c) => c.msToReturn))
    const answered = median(cli.map((c) => c.msToAnswer))
    rows.push(
      ['ncap emulator start (bin/run.js): spawn → command returned', fmt(returned), ratio(returned), '-'],
      ['ncap emulator start: spawn → signed ListBuckets answered', fmt(answered), ratio(answered), fmt(median(cli.map((c) => c.rssMb)))],
      ["ncap --version (oclif's own start-up, the floor of any command)", fmt(oclif), ratio(oclif), '-'],
    )
  } else rows.push(['ncap emulator start: not measured (no dist/: npm run build)', '-', '-', '-'])
  printTable(`start to first answer (median of ${STARTS}; main from ${mainFrom}; CLI ${cliEntry})`, rows)
}

interface SmallResult {
  pairs: number
  seconds: number
  cpuMsPerPair: number
}

const perSecond = (r: SmallResult) => r.pairs / r.seconds
const smallKey = (rep: number, index: number) => `r${rep}/k/${index}`

/**
 * Runs PUT+GET pairs of 1 KiB from CONCURRENCY workers: pairs 0..CONCURRENCY-1 warm up
 * (untimed), then pairs until SMALL_PAIRS or SMALL_SECONDS, timed, with the server's CPU.
 */
async function pairs(serverPid: number, pair: (index: number) => Promise<void>): Promise<SmallResult> {
  for (let i = 0; i < CONCURRENCY; i++) await pair(i)
  const cpuBefore = cpuMs(serverPid)
  const started = process.hrtime.bigint()
  const deadline = Date.now() + SMALL_SECONDS * 1000
  let next = 0
  const worker = async () => {
    while (next < SMALL_PAIRS && Date.now() < deadline) await pair(CONCURRENCY + next++)
  }
  await Promise.all(Array.from({length: CONCURRENCY}, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {pairs: next, seconds, cpuMsPerPair: (cpuMs(serverPid) - cpuBefore) / next}
}

const smallBody = randomBytes(1024)

async function sdkPairs(endpoint: string, pid: number, rep: number): Promise<SmallResult> {
  const s3 = s3For(endpoint)
  try {
    await s3.send(new CreateBucketCommand({Bucket: 'bench-small'}))
  } catch (error) {
    if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error
  }
  const result = await pairs(pid, async (index) => {
    const key = smallKey(rep, index)
    await s3.send(new PutObjectCommand({Bucket: 'bench-small', Key: key, Body: smallBody}))
    const got = await s3.send(new GetObjectCommand({Bucket: 'bench-small', Key: key}))
    const bytes = await got.Body?.transformToByteArray()
    if (bytes?.length !== smallBody.length) throw new Error(`GET ${key}: ${bytes?.length} bytes`)
  })
  s3.destroy()
  return result
}

/** The lean client: every request of the run signed before the clock starts, then plain node:http. */
async function leanPairs(endpoint: string, pid: number, rep: number): Promise<SmallResult> {
  const client = new LeanS3(endpoint, CONCURRENCY)
  try {
    await client.send(await client.sign('PUT', '/bench-lean')).catch((error: Error) => {
      if (!/409|BucketAlreadyOwnedByYou/.test(error.message)) throw error
    })
    const signed: [SignedRequest, SignedRequest][] = []
    for (let i = 0; i < CONCURRENCY + SMALL_PAIRS; i++) {
      const path = `/bench-lean/${smallKey(rep, i)}`
      signed.push([await client.sign('PUT', path, smallBody.length), await client.sign('GET', path)])
    }
    return await pairs(pid, async (index) => {
      const [put, get] = signed[index]!
      await client.send(put, smallBody)
      const got = await client.send(get)
      if (got.length !== smallBody.length) throw new Error(`GET ${get.path}: ${got.length} bytes`)
    })
  } finally {
    client.destroy()
  }
}

async function startBareStore(): Promise<{endpoint: string; pid: number; child: ChildProcess}> {
  const child = spawn(
    process.execPath,
    ['--import=tsx', join(root, 'bench', 'bare-store.ts'), '--dir', await mkdtemp(join(work, 'bare-'))],
    {stdio: ['ignore', 'pipe', 'inherit']},
  )
  children.add(child)
  const port = await new Promise<number>((done, fail) => {
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      const match = /listening (\d+)/.exec(text)
      if (match?.[1]) done(Number(match[1]))
    })
    child.once('exit', (code) => fail(new Error(`bare store exited ${code}`)))
  })
  return {endpoint: `http://127.0.0.1:${port}`, pid: child.pid!, child}
}

/** Median of each figure over the runs. */
function medianResult(runs: SmallResult[]): SmallResult {
  return {
    pairs: median(runs.map((r) => r.pairs)),
    seconds: median(runs.map((r) => r.seconds)),
    cpuMsPerPair: median(runs.map((r) => r.cpuMsPerPair)),
  }
}

async function benchSmall(emulator: Emulator): Promise<void> {
  const moto = await startMoto()
  children.add(moto.process)
  const bare = await startBareStore()
  const rows = [
    {server: 'emulator', client: 'SDK v3', run: (rep: number) => sdkPairs(emulator.endpoint, emulator.pid, rep)},
    {server: 'emulator', client: 'lean signed node:http', run: (rep: number) => leanPairs(emulator.endpoint, emulator.pid, rep)},
    {server: 'moto_server', client: 'SDK v3', run: (rep: number) => sdkPairs(moto.endpoint, moto.pid, rep)},
    {server: 'moto_server', client: 'lean signed node:http', run: (rep: number) => leanPairs(moto.endpoint, moto.pid, rep)},
    // The bare store ignores signatures and S3 headers; the SDK row shows what the SDK's bigger requests cost a server.
    {server: 'bare store', client: 'SDK v3', run: (rep: number) => sdkPairs(bare.endpoint, bare.pid, rep)},
    {server: 'bare store', client: 'lean signed node:http', run: (rep: number) => leanPairs(bare.endpoint, bare.pid, rep)},
  ]
  const runs: SmallResult[][] = rows.map(() => [])
  try {
    // Rounds interleave the servers, so a burst of load elsewhere on the machine touches each alike.
    for (let rep = 0; rep < REPEAT; rep++) for (const [i, row] of rows.entries()) runs[i]!.push(await row.run(rep))
  } finally {
    await moto.stop()
    await stopChild(bare.child)
  }
  const results = runs.map(medianResult)
  const [oursSdk, oursLean, motoSdk, motoLean, bareSdk, bareLean] = results as [
    SmallResult,
    SmallResult,
    SmallResult,
    SmallResult,
    SmallResult,
    SmallResult,
  ]
  const table = [
    ['server', 'client', 'pairs', 'pairs/s', 'server CPU ms/pair', 'pairs/s ÷ moto (same client)', 'CPU/pair ÷ bare store (same client)'],
  ]
  for (const [i, row] of rows.entries()) {
    const r = results[i]!
    const sdk = row.client === 'SDK v3'
    const peer = sdk ? motoSdk : motoLean
    const limit = sdk ? bareSdk : bareLean
    table.push([
      row.server,
      row.client,
      String(r.pairs),
      fmt(perSecond(r)),
      fmt(r.cpuMsPerPair, 2),
      fmt(perSecond(r) / perSecond(peer), 2),
      fmt(r.cpuMsPerPair / limit.cpuMsPerPair, 2),
    ])
  }
  printTable(
    `1 KiB PUT+GET pairs, concurrency ${CONCURRENCY}, up to ${SMALL_PAIRS} pairs or ${SMALL_SECONDS} s; median of ${REPEAT} rounds`,
    table,
  )
  // The machine is shared: each round's figure is shown, so an outlier is visible rather than hidden in the median.
  for (const [i, row] of rows.entries())
    console.log(
      `  rounds, ${row.server} (${row.client}): pairs/s ${runs[i]!.map((r) => fmt(perSecond(r))).join(', ')}; ` +
        `CPU ms/pair ${runs[i]!.map((r) => fmt(r.cpuMsPerPair, 2)).join(', ')}`,
    )
  console.log(
    `lean client: emulator ${fmt(perSecond(oursLean) / perSecond(motoLean), 2)}× moto's pairs/s, ` +
      `${fmt(perSecond(oursLean) / perSecond(bareLean), 2)}× the bare store's; server CPU per pair ` +
      `${fmt(oursLean.cpuMsPerPair / bareLean.cpuMsPerPair, 2)}× the bare store's, ${fmt(motoLean.cpuMsPerPair / oursLean.cpuMsPerPair, 2)}× less than moto's`,
  )
  console.log(
    `SDK v3 client: emulator ${fmt(perSecond(oursSdk) / perSecond(motoSdk), 2)}× moto's pairs/s, server CPU per pair ` +
      `${fmt(oursSdk.cpuMsPerPair / bareSdk.cpuMsPerPair, 2)}× the bare store's (bound by the client: the lean client drives the same emulator at ${fmt(perSecond(oursLean))}/s)`,
  )
}

try {
  console.log(`emulator benchmarks on ${spawnSync('nproc', {encoding: 'utf8'}).stdout.trim()} CPUs; main from ${mainFrom}`)
  if (PARTS.has('start')) await benchStart()
  const emulator = await spawnEmulator()
  try {
    if (PARTS.has('small')) await benchSmall(emulator)
    if (PARTS.has('big') && BIG_MB > 0)
      await benchBig({endpoint: emulator.endpoint, pid: emulator.pid, work, mb: BIG_MB, repeat: REPEAT, s3: s3For(emulator.endpoint)})
  } finally {
    await stopChild(emulator.child)
  }
} finally {
  await rm(work, {recursive: true, force: true})
}
