/**
 * The emulator's benchmarks, each a ratio to a baseline measured in this same run
 * (DESIGN §8): start-to-first-answer vs `node -e 0`; 1 KiB PUT+GET pairs at
 * concurrency 16 vs moto_server and the bare store (with the server's CPU time per
 * pair from /proc/<pid>/stat); a big PUT and GET vs `cp`, with the emulator's peak RSS.
 * Figures only, never pass/fail. Sizes: BENCH_BIG_MB (1024), BENCH_SMALL_SECONDS (10),
 * BENCH_SMALL_PAIRS (2000), BENCH_STARTS (5).
 * Run: node --import=tsx bench/emulator.ts
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createReadStream, createWriteStream, existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {mkdtemp, open, rm, stat} from 'node:fs/promises'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {fileURLToPath} from 'node:url'
import {startMoto} from '../test/helpers/moto.js'
import {fmt, median, printTable, timeCommand} from './measure.js'

// Before the SDK loads (hence the dynamic imports): its Node 20 notice would clutter the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const {CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client} = await import('@aws-sdk/client-s3')
const {Upload} = await import('@aws-sdk/lib-storage')

const env = process.env
const BIG_MB = Number(env.BENCH_BIG_MB ?? 1024)
const SMALL_SECONDS = Number(env.BENCH_SMALL_SECONDS ?? 10)
const SMALL_PAIRS = Number(env.BENCH_SMALL_PAIRS ?? 2000)
const STARTS = Number(env.BENCH_STARTS ?? 5)
const CONCURRENCY = 16
const root = fileURLToPath(new URL('..', import.meta.url))
const {mainArgs, mainFrom} = buildMain()
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-'))
/** Every server this run spawns, killed if the run dies early (an error, a closed pipe). */
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

/**
 * The emulator as shipped is compiled JS: dist/ when built; otherwise tsc compiles
 * main.ts and what it imports into node_modules/.cache (packages resolve from there);
 * tsx only if that fails. Start-up through tsx mostly measures tsx.
 */
function buildMain(): {mainArgs: string[]; mainFrom: string} {
  const dist = join(root, 'dist', 'src', 'emulator', 'main.js')
  if (existsSync(dist) && env.BENCH_MAIN !== 'tsx') return {mainArgs: [dist], mainFrom: 'dist/ (built)'}
  if (env.BENCH_MAIN !== 'tsx') {
    const out = join(root, 'node_modules', '.cache', 'ncap-bench')
    rmSync(out, {recursive: true, force: true})
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const options = [
      '--outDir',
      out,
      '--rootDir',
      root,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--noCheck',
    ]
    spawnSync(process.execPath, [tsc, join(root, 'src', 'emulator', 'main.ts'), ...options], {stdio: 'ignore'})
    const main = join(out, 'src', 'emulator', 'main.js')
    if (existsSync(main)) {
      writeFileSync(join(out, 'package.json'), '{"type": "module"}\n')
      return {mainArgs: [main], mainFrom: 'tsc build of src/ in node_modules/.cache/ncap-bench (dist/ absent)'}
    }
  }
  return {mainArgs: ['--import=tsx', join(root, 'src', 'emulator', 'main.ts')], mainFrom: 'src/ through tsx'}
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
  const child = spawn(process.execPath, [...mainArgs, '--state-dir', stateDir, '--port', '0'], {stdio: ['ignore', 'pipe', 'inherit']})
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
  const s3 = s3For(endpoint, 1)
  for (;;) {
    try {
      await s3.send(new ListBucketsCommand({}))
      break
    } catch (error) {
      if (child.exitCode !== null) throw error
      await sleep(2)
    }
  }
  const msToAnswer = Number(process.hrtime.bigint() - started) / 1e6
  s3.destroy()
  return {endpoint, pid: child.pid!, child, msToAnswer}
}

async function benchStart(): Promise<void> {
  const nodeBaseline = timeCommand(process.execPath, ['-e', '0'], STARTS)
  const times: number[] = []
  const rss: number[] = []
  for (let i = 0; i < STARTS; i++) {
    const emulator = await spawnEmulator()
    times.push(emulator.msToAnswer)
    rss.push(statusKb(emulator.pid, 'VmRSS') / 1024)
    await stopChild(emulator.child)
  }
  printTable(`start to first answer (median of ${STARTS}; main from ${mainFrom})`, [
    ['what', 'ms', 'ratio to node -e 0', 'RSS after start (MB)'],
    ['node -e 0', fmt(nodeBaseline), '1.0', '-'],
    ['emulator: spawn → signed ListBuckets answered', fmt(median(times)), fmt(median(times) / nodeBaseline, 2), fmt(median(rss))],
  ])
}

interface SmallResult {
  pairs: number
  seconds: number
  cpuMsPerPair: number
}

/** Runs PUT+GET pairs of 1 KiB from CONCURRENCY workers until SMALL_PAIRS or SMALL_SECONDS. */
async function pairs(serverPid: number, pair: (key: string, body: Buffer) => Promise<void>): Promise<SmallResult> {
  const body = randomBytes(1024)
  for (let i = 0; i < CONCURRENCY; i++) await pair(`warm/${i}`, body)
  const cpuBefore = cpuMs(serverPid)
  const started = process.hrtime.bigint()
  const deadline = Date.now() + SMALL_SECONDS * 1000
  let next = 0
  const worker = async () => {
    while (next < SMALL_PAIRS && Date.now() < deadline) await pair(`k/${next++}`, body)
  }
  await Promise.all(Array.from({length: CONCURRENCY}, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {pairs: next, seconds, cpuMsPerPair: (cpuMs(serverPid) - cpuBefore) / next}
}

async function sdkPairs(endpoint: string, pid: number): Promise<SmallResult> {
  const s3 = s3For(endpoint)
  await s3.send(new CreateBucketCommand({Bucket: 'bench-small'}))
  const result = await pairs(pid, async (key, body) => {
    await s3.send(new PutObjectCommand({Bucket: 'bench-small', Key: key, Body: body}))
    const got = await s3.send(new GetObjectCommand({Bucket: 'bench-small', Key: key}))
    const bytes = await got.Body?.transformToByteArray()
    if (bytes?.length !== body.length) throw new Error(`GET ${key}: ${bytes?.length} bytes`)
  })
  s3.destroy()
  return result
}

function httpCall(agent: Agent, port: number, method: string, path: string, body?: Buffer): Promise<Buffer> {
  return new Promise((done, fail) => {
    const req = request({host: '127.0.0.1', port, method, path, agent, headers: body ? {'content-length': body.length} : {}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => (res.statusCode === 200 ? done(Buffer.concat(chunks)) : fail(new Error(`${method} ${path}: ${res.statusCode}`))))
    })
    req.on('error', fail)
    req.end(body)
  })
}

async function barePairs(): Promise<SmallResult> {
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
  const agent = new Agent({keepAlive: true, maxSockets: CONCURRENCY})
  try {
    return await pairs(child.pid!, async (key, body) => {
      await httpCall(agent, port, 'PUT', `/bench-small/${key}`, body)
      const got = await httpCall(agent, port, 'GET', `/bench-small/${key}`)
      if (got.length !== body.length) throw new Error(`GET ${key}: ${got.length} bytes`)
    })
  } finally {
    agent.destroy()
    await stopChild(child)
  }
}

async function benchSmall(emulator: Emulator): Promise<void> {
  const ours = await sdkPairs(emulator.endpoint, emulator.pid)
  const moto = await startMoto()
  children.add(moto.process)
  let peer: SmallResult
  try {
    peer = await sdkPairs(moto.endpoint, moto.pid)
  } finally {
    await moto.stop()
  }
  const bare = await barePairs()
  const row = (name: string, r: SmallResult) => [
    name,
    String(r.pairs),
    fmt(r.pairs / r.seconds),
    fmt(r.cpuMsPerPair, 2),
    fmt(r.pairs / r.seconds / (ours.pairs / ours.seconds), 2),
    fmt(r.cpuMsPerPair / ours.cpuMsPerPair, 2),
  ]
  printTable(`1 KiB PUT+GET pairs, concurrency ${CONCURRENCY}, up to ${SMALL_PAIRS} pairs or ${SMALL_SECONDS} s`, [
    ['server', 'pairs', 'pairs/s', 'server CPU ms/pair', 'pairs/s ÷ emulator', 'CPU/pair ÷ emulator'],
    row('emulator (SDK v3)', ours),
    row('moto_server (SDK v3)', peer),
    row('bare store (node:http)', bare),
  ])
  console.log(
    `emulator vs moto: ${fmt(ours.pairs / ours.seconds / (peer.pairs / peer.seconds), 2)}× pairs/s, ` +
      `${fmt(peer.cpuMsPerPair / ours.cpuMsPerPair, 2)}× less server CPU per pair; ` +
      `emulator CPU per pair = ${fmt(ours.cpuMsPerPair / bare.cpuMsPerPair, 2)}× the bare store's`,
  )
}

async function writeBigFile(path: string, mb: number): Promise<void> {
  const handle = await open(path, 'w')
  const block = randomBytes(8 * 1024 * 1024)
  try {
    for (let written = 0; written < mb * 1024 * 1024; written += block.length) {
      const length = Math.min(block.length, mb * 1024 * 1024 - written)
      block[0] = written & 0xff // successive blocks differ
      await handle.write(block, 0, length)
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function timed(command: string, args: string[]): number {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, {stdio: 'inherit'})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

async function benchBig(emulator: Emulator): Promise<void> {
  const source = join(work, 'big.bin')
  await writeBigFile(source, BIG_MB)
  const bytes = (await stat(source)).size
  const mbps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000)
  const cpMs = timed('cp', [source, join(work, 'big.cp')])
  const cpSyncMs = timed('sh', ['-c', `cp "${source}" "${join(work, 'big.cp2')}" && sync "${join(work, 'big.cp2')}"`])
  await rm(join(work, 'big.cp'))
  await rm(join(work, 'big.cp2'))

  const s3 = s3For(emulator.endpoint)
  await s3.send(new CreateBucketCommand({Bucket: 'bench-big'}))
  let started = process.hrtime.bigint()
  await new Upload({
    client: s3,
    params: {Bucket: 'bench-big', Key: 'big.bin', Body: createReadStream(source)},
    partSize: 16 * 1024 * 1024,
    queueSize: 4,
  }).done()
  const putMs = Number(process.hrtime.bigint() - started) / 1e6
  const hwmAfterPut = statusKb(emulator.pid, 'VmHWM') / 1024

  started = process.hrtime.bigint()
  const got = await s3.send(new GetObjectCommand({Bucket: 'bench-big', Key: 'big.bin'}))
  await pipeline(got.Body as Readable, createWriteStream(join(work, 'big.back')))
  const getMs = Number(process.hrtime.bigint() - started) / 1e6
  const back = (await stat(join(work, 'big.back'))).size
  if (back !== bytes) throw new Error(`GET returned ${back} bytes, expected ${bytes}`)
  const hwm = statusKb(emulator.pid, 'VmHWM') / 1024
  s3.destroy()

  printTable(`${BIG_MB} MiB PUT (lib-storage Upload, 16 MiB parts ×4) and GET (to a file), same disk`, [
    ['what', 'ms', 'MiB/s', 'throughput ÷ cp'],
    ['cp', fmt(cpMs), fmt(mbps(cpMs)), '1.00'],
    ['cp + sync (durable, as the emulator is)', fmt(cpSyncMs), fmt(mbps(cpSyncMs)), fmt(cpMs / cpSyncMs, 2)],
    ['emulator PUT', fmt(putMs), fmt(mbps(putMs)), fmt(cpMs / putMs, 2)],
    ['emulator GET', fmt(getMs), fmt(mbps(getMs)), fmt(cpMs / getMs, 2)],
  ])
  console.log(`emulator peak RSS (VmHWM): ${fmt(hwmAfterPut)} MB after the PUT, ${fmt(hwm)} MB after the GET (whole run so far)`)
}

try {
  console.log(`emulator benchmarks on ${spawnSync('nproc', {encoding: 'utf8'}).stdout.trim()} CPUs; main from ${mainFrom}`)
  await benchStart()
  const emulator = await spawnEmulator()
  try {
    await benchSmall(emulator)
    if (BIG_MB > 0) await benchBig(emulator)
  } finally {
    await stopChild(emulator.child)
  }
} finally {
  await rm(work, {recursive: true, force: true})
}
