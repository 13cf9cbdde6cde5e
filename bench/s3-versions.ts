/**
 * What versioning costs (issue 13's figures), each a ratio to a baseline measured in this same run:
 *   - 1 KiB PUT+GET pairs at concurrency 16 on an unversioned and on a versioned bucket: the server's
 *     CPU per pair (utime+stime from /proc/<pid>/stat) as ratios to the bare store (bench/bare-store.ts);
 *     aim: versioned ≤ 1.2× unversioned, unversioned as in bench/emulator.ts;
 *   - ListObjectVersions over 10,000 versions (2,500 keys × 4) against ListObjectsV2 over 10,000 keys,
 *     every page of 1,000 fetched through the SDK v3 client (wall and server CPU); aim ≤ 2×.
 * Requests of the pairs are signed before the timed loop (bench/lean-client.ts), so the client costs
 * little. Figures only, never pass/fail. Sizes: BENCH_SMALL_PAIRS (2000), BENCH_VERSIONS (10000),
 * BENCH_REPEAT (3, medians shown), BENCH_PARTS (pairs,list) picks some. The emulator runs src/emulator/main.ts through tsx (the compiled
 * code is the same; tsx only costs at start-up, which is not measured here).
 * Run: node --import=tsx bench/s3-versions.ts
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {LeanS3, type SignedRequest} from './lean-client.js'
import {fmt, median, printTable} from './measure.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const {CreateBucketCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client} = await import(
  '@aws-sdk/client-s3'
)

const env = process.env
const PAIRS = Number(env.BENCH_SMALL_PAIRS ?? 2000)
const VERSIONS = Number(env.BENCH_VERSIONS ?? 10000)
const REPEAT = Number(env.BENCH_REPEAT ?? 3)
const PARTS = new Set((env.BENCH_PARTS ?? 'pairs,list').split(','))
const CONCURRENCY = 16
const root = fileURLToPath(new URL('..', import.meta.url))
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-s3v-'))
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

/** Spawns a server and waits for the line that names its port. */
function spawnServer(args: string[], pattern: RegExp): Promise<{child: ChildProcess; endpoint: string}> {
  const child = spawn(process.execPath, ['--import=tsx', ...args], {cwd: root, stdio: ['ignore', 'pipe', 'inherit']})
  children.add(child)
  return new Promise((done, fail) => {
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text
      const match = pattern.exec(out)
      if (match?.[1]) done({child, endpoint: match[1].startsWith('http') ? match[1] : `http://127.0.0.1:${match[1]}`})
    })
    child.once('exit', (code) => fail(new Error(`${args.join(' ')} exited ${code} before listening`)))
  })
}

const body = Buffer.alloc(1024, 'x')

/** PUT+GET pairs of 1 KiB at CONCURRENCY: CONCURRENCY untimed warm-up pairs, then PAIRS timed, with the server's CPU. */
async function pairs(pid: number, client: LeanS3, prefix: string): Promise<{cpuMsPerPair: number; perSecond: number}> {
  const total = CONCURRENCY + PAIRS
  const signed: [SignedRequest, SignedRequest][] = []
  for (let i = 0; i < total; i++) {
    const path = `${prefix}/k/${i}`
    signed.push([await client.sign('PUT', path, body.length), await client.sign('GET', path)])
  }
  const pair = async (i: number) => {
    const [put, get] = signed[i] as [SignedRequest, SignedRequest]
    await client.send(put, body)
    const got = await client.send(get)
    if (got.length !== body.length) throw new Error(`GET ${get.path} answered ${got.length} bytes`)
  }
  for (let i = 0; i < CONCURRENCY; i++) await pair(i)
  const before = cpuMs(pid)
  const started = process.hrtime.bigint()
  let next = CONCURRENCY
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (next < total) await pair(next++)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {cpuMsPerPair: (cpuMs(pid) - before) / PAIRS, perSecond: PAIRS / seconds}
}

async function fill(client: LeanS3, paths: string[]): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (next < paths.length) {
        const path = paths[next++] as string
        await client.send(await client.sign('PUT', path, body.length), body)
      }
    }),
  )
}

const bare = await spawnServer(['bench/bare-store.ts', '--dir', join(work, 'bare'), '--port', '0'], /listening (\d+)/)
const emulator = await spawnServer(
  ['src/emulator/main.ts', '--state-dir', join(work, 'state'), '--port', '0'],
  /listening at (http:\/\/\S+),/,
)
const sdk = new S3Client({
  endpoint: emulator.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
})
for (const bucket of ['plain', 'versioned', 'klist', 'vlist']) await sdk.send(new CreateBucketCommand({Bucket: bucket}))
for (const bucket of ['versioned', 'vlist'])
  await sdk.send(new PutBucketVersioningCommand({Bucket: bucket, VersioningConfiguration: {Status: 'Enabled'}}))

const bareClient = new LeanS3(bare.endpoint, CONCURRENCY)
const emulatorClient = new LeanS3(emulator.endpoint, CONCURRENCY)
const rows: Record<'bare' | 'plain' | 'versioned', {cpu: number[]; rate: number[]}> = {
  bare: {cpu: [], rate: []},
  plain: {cpu: [], rate: []},
  versioned: {cpu: [], rate: []},
}
for (let rep = 0; rep < (PARTS.has('pairs') ? REPEAT : 0); rep++) {
  for (const [name, pid, client, prefix] of [
    ['bare', bare.child.pid as number, bareClient, `/bare/r${rep}`],
    ['plain', emulator.child.pid as number, emulatorClient, `/plain/r${rep}`],
    ['versioned', emulator.child.pid as number, emulatorClient, `/versioned/r${rep}`],
  ] as const) {
    const result = await pairs(pid, client, prefix)
    rows[name].cpu.push(result.cpuMsPerPair)
    rows[name].rate.push(result.perSecond)
  }
}
const cpu = (name: keyof typeof rows) => median(rows[name].cpu)
if (PARTS.has('pairs'))
  printTable(`1 KiB PUT+GET pairs, concurrency ${CONCURRENCY}, lean signed client (median of ${REPEAT} runs of ${PAIRS} pairs)`, [
    ['server', 'server CPU ms/pair', 'ratio to bare store', 'pairs/s'],
    ['bare store (node:http + atomic write)', fmt(cpu('bare'), 3), '1.00', fmt(median(rows.bare.rate), 0)],
    ['emulator, unversioned bucket', fmt(cpu('plain'), 3), fmt(cpu('plain') / cpu('bare'), 2), fmt(median(rows.plain.rate), 0)],
    ['emulator, versioned bucket', fmt(cpu('versioned'), 3), fmt(cpu('versioned') / cpu('bare'), 2), fmt(median(rows.versioned.rate), 0)],
    ['versioned / unversioned', '', fmt(cpu('versioned') / cpu('plain'), 2), ''],
  ])

if (PARTS.has('list')) await benchListings()

async function benchListings(): Promise<void> {
  // Listings: VERSIONS versions (a quarter as many keys, 4 versions each) against VERSIONS keys.
  const keys = VERSIONS / 4
  const versionPaths: string[] = []
  for (let round = 0; round < 4; round++) for (let i = 0; i < keys; i++) versionPaths.push(`/vlist/data/${String(i).padStart(6, '0')}`)
  await fill(emulatorClient, versionPaths)
  await fill(
    emulatorClient,
    Array.from({length: VERSIONS}, (_, i) => `/klist/data/${String(i).padStart(6, '0')}`),
  )

  async function listAll(kind: 'versions' | 'keys'): Promise<{ms: number; cpu: number; items: number}> {
    const pid = emulator.child.pid as number
    const before = cpuMs(pid)
    const started = process.hrtime.bigint()
    let items = 0
    if (kind === 'keys') {
      let token: string | undefined
      do {
        const page = await sdk.send(new ListObjectsV2Command({Bucket: 'klist', ContinuationToken: token}))
        items += page.Contents?.length ?? 0
        token = page.NextContinuationToken
      } while (token)
    } else {
      let keyMarker: string | undefined
      let versionIdMarker: string | undefined
      for (;;) {
        const page = await sdk.send(
          new ListObjectVersionsCommand({Bucket: 'vlist', KeyMarker: keyMarker, VersionIdMarker: versionIdMarker}),
        )
        items += (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0)
        if (!page.IsTruncated) break
        keyMarker = page.NextKeyMarker
        versionIdMarker = page.NextVersionIdMarker
      }
    }
    return {ms: Number(process.hrtime.bigint() - started) / 1e6, cpu: cpuMs(pid) - before, items}
  }

  await listAll('keys')
  await listAll('versions')
  const listings = {keys: [] as {ms: number; cpu: number; items: number}[], versions: [] as {ms: number; cpu: number; items: number}[]}
  for (let rep = 0; rep < Math.max(REPEAT, 5); rep++) {
    listings.keys.push(await listAll('keys'))
    listings.versions.push(await listAll('versions'))
  }
  const ms = (kind: 'keys' | 'versions') => median(listings[kind].map((r) => r.ms))
  const listCpu = (kind: 'keys' | 'versions') => median(listings[kind].map((r) => r.cpu))
  printTable(`full listing, pages of 1,000, SDK v3 client (median of ${listings.keys.length})`, [
    ['listing', 'items', 'wall ms', 'server CPU ms', 'ratio (wall)', 'ratio (server CPU)'],
    [`ListObjectsV2 over ${VERSIONS} keys`, String(listings.keys[0]?.items), fmt(ms('keys')), fmt(listCpu('keys')), '1.00', '1.00'],
    [
      `ListObjectVersions over ${VERSIONS} versions (${keys} keys × 4)`,
      String(listings.versions[0]?.items),
      fmt(ms('versions')),
      fmt(listCpu('versions')),
      fmt(ms('versions') / ms('keys'), 2),
      fmt(listCpu('versions') / listCpu('keys'), 2),
    ],
  ])
}

sdk.destroy()
bareClient.agent.destroy()
emulatorClient.agent.destroy()
for (const child of children) child.kill('SIGTERM')
await rm(work, {recursive: true, force: true})
