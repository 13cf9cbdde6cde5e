/**
 * The big-transfer benchmark: a BIG_MB file PUT and GET through the emulator, by the
 * SDK (lib-storage multipart Upload; GetObject) and by the lean client (presigned URL,
 * node:http piping the file), against `cp` and `cp`+`sync` of the same file on the
 * same disk, with the emulator's peak RSS per transfer. Run from emulator.ts.
 */
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createReadStream, createWriteStream, readFileSync, writeFileSync} from 'node:fs'
import {open, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import type {S3Client} from '@aws-sdk/client-s3'
import {LeanS3} from './lean-client.js'
import {fmt, median, printTable} from './measure.js'

/** A process's peak RSS (VmHWM) in kB. */
const statusKb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN)

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

async function timedAsync(run: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint()
  await run()
  return Number(process.hrtime.bigint() - started) / 1e6
}

/** Resets a process's peak RSS (VmHWM) so each transfer reports its own peak; false where the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export interface BigTransferTarget {
  endpoint: string
  pid: number
  /** A scratch folder on the disk under test. */
  work: string
  mb: number
  repeat: number
  /** An SDK client for the endpoint (made by the caller, which loads the SDK once). */
  s3: S3Client
}

export async function benchBig(target: BigTransferTarget): Promise<void> {
  const {work, s3, repeat} = target
  const emulator = {pid: target.pid}
  const BIG_MB = target.mb
  const REPEAT = repeat
  // Loaded here, after the caller has silenced the SDK's Node 20 notice.
  const {CreateBucketCommand, GetObjectCommand} = await import('@aws-sdk/client-s3')
  const {Upload} = await import('@aws-sdk/lib-storage')
  const source = join(work, 'big.bin')
  const back = join(work, 'big.back')
  await writeBigFile(source, BIG_MB)
  const bytes = (await stat(source)).size
  await s3.send(new CreateBucketCommand({Bucket: 'bench-big'}))
  const lean = new LeanS3(target.endpoint, 1)
  const times: Record<string, number[]> = {}
  const peaks: Record<string, number[]> = {}
  let peaksPerTransfer = true
  const push = (into: Record<string, number[]>, name: string, value: number) => {
    into[name] = [...(into[name] ?? []), value]
  }
  const record = (name: string, ms: number, peakMb?: number) => {
    push(times, name, ms)
    if (peakMb !== undefined) push(peaks, name, peakMb)
  }
  const transfer = async (name: string, run: () => Promise<void>) => {
    peaksPerTransfer = resetPeak(emulator.pid) && peaksPerTransfer
    const ms = await timedAsync(run)
    record(name, ms, statusKb(emulator.pid) / 1024)
  }
  const checkBack = async () => {
    const size = (await stat(back)).size
    if (size !== bytes) throw new Error(`GET returned ${size} bytes, expected ${bytes}`)
    await rm(back)
  }
  for (let rep = 0; rep < REPEAT; rep++) {
    record('cp', timed('cp', [source, join(work, 'big.cp')]))
    record('cp+sync', timed('sh', ['-c', `cp "${source}" "${join(work, 'big.cp2')}" && sync "${join(work, 'big.cp2')}"`]))
    await rm(join(work, 'big.cp'))
    await rm(join(work, 'big.cp2'))
    await transfer('SDK PUT', async () => {
      await new Upload({
        client: s3,
        params: {Bucket: 'bench-big', Key: 'sdk.bin', Body: createReadStream(source)},
        partSize: 16 * 1024 * 1024,
        queueSize: 4,
      }).done()
    })
    await transfer('SDK GET', async () => {
      const got = await s3.send(new GetObjectCommand({Bucket: 'bench-big', Key: 'sdk.bin'}))
      await pipeline(got.Body as Readable, createWriteStream(back))
    })
    await checkBack()
    const putUrl = await lean.presign('PUT', '/bench-big/lean.bin')
    const getUrl = await lean.presign('GET', '/bench-big/lean.bin')
    await transfer('lean PUT', () => lean.putFile(putUrl, source))
    await transfer('lean GET', () => lean.getFile(getUrl, back))
    await checkBack()
  }
  s3.destroy()
  lean.destroy()

  const mbps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000)
  const cp = median(times.cp!)
  const cpSync = median(times['cp+sync']!)
  const row = (name: string, what: string) => {
    const ms = median(times[name]!)
    const peak = peaks[name] ? fmt(median(peaks[name]!)) : '-'
    return [what, fmt(ms), fmt(mbps(ms)), fmt(cp / ms, 2), fmt(cpSync / ms, 2), peak]
  }
  printTable(`${BIG_MB} MiB PUT and GET, same disk, median of ${REPEAT}`, [
    ['what (client)', 'ms', 'MiB/s', 'throughput ÷ cp', 'throughput ÷ cp+sync', 'emulator peak RSS (MB)'],
    ['cp (page cache only)', fmt(cp), fmt(mbps(cp)), '1.00', fmt(cpSync / cp, 2), '-'],
    ['cp + sync (durable, as the emulator is)', fmt(cpSync), fmt(mbps(cpSync)), fmt(cp / cpSync, 2), '1.00', '-'],
    row('SDK PUT', 'emulator PUT (SDK lib-storage Upload, 16 MiB parts ×4)'),
    row('SDK GET', 'emulator GET (SDK GetObject, to a file)'),
    row('lean PUT', 'emulator PUT (presigned URL, node:http piping the file)'),
    row('lean GET', 'emulator GET (presigned URL, node:http to a file)'),
  ])
  for (const [name, ms] of Object.entries(times)) console.log(`  rounds, ${name}: MiB/s ${ms.map((one) => fmt(mbps(one))).join(', ')}`)
  console.log(
    `a PUT is acknowledged only once durable (fsync), so ÷ cp+sync is the fair ratio; ÷ cp compares with a copy that is still in the page cache. ` +
      (peaksPerTransfer
        ? 'Peak RSS is per transfer (VmHWM reset before each).'
        : 'Peak RSS is the whole run so far (VmHWM could not be reset).'),
  )
}
