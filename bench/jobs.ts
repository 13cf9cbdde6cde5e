/**
 * A lab's job on the embedded emulator, through the built CLI: `ncap submit` of
 * a 1 GiB file against `cp` + `sync` of the same file (the fair baseline: a PUT
 * is acknowledged only once durable), `ncap results` of a 1 GiB result, the
 * job's overhead (submit.json PUT to end.txt, minus the analysis command's own
 * run), and `logs --follow` latency from a write of the job's record to the
 * printed line.
 */
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {GetCommandInvocationCommand, SSMClient} from '@aws-sdk/client-ssm'
import {fmt, median, printTable} from './measure.js'

const repo = join(import.meta.dirname, '..')
const ncap = join(repo, 'bin', 'run.js')
const work = mkdtempSync(join(tmpdir(), 'ncap-bench-jobs-'))
const stateDir = join(work, 'state')
const dir = join(work, 'benchjobs')
const env = {...process.env, CI: 'true', NCAP_HOME: join(work, 'home')}
const MiB = 1024 * 1024
const size = Number(process.env.BENCH_JOB_MIB ?? 1024) * MiB

function run(args: string[], cwd = dir): {ms: number; stdout: string} {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [ncap, ...args], {cwd, env, encoding: 'utf8', maxBuffer: 64 * MiB})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`ncap ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return {ms, stdout: result.stdout}
}

const started = JSON.parse(run(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'], repo).stdout)
const client = {
  region: 'us-east-1',
  endpoint: started.endpoint,
  forcePathStyle: true,
  credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
}
const s3 = new S3Client(client)
try {
  run(['init', dir, '--name', 'benchjobs', '--group', 'lab:alice', '--yes'], repo)
  run(['deploy', '--state-dir', stateDir, '--yes'])

  // A 1 GiB file of random-looking bytes.
  const big = join(work, 'big.bin')
  const fd = openSync(big, 'w')
  const block = Buffer.alloc(8 * MiB)
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i)
  for (let written = 0; written < size; written += block.length) writeSync(fd, block)
  closeSync(fd)
  spawnSync('sync')

  const cpStart = process.hrtime.bigint()
  spawnSync('cp', [big, join(work, 'copy.bin')])
  spawnSync('sync')
  const cpMs = Number(process.hrtime.bigint() - cpStart) / 1e6

  // The submit's upload (its job then runs the placeholder analysis, hashing 1 GiB).
  const submit = run(['submit', big, '--json'])
  const bigJob = JSON.parse(submit.stdout).jobId as string
  run(['logs', bigJob, '--follow'])

  // results of 1 GiB: the job's own output plus a 1 GiB file put beside it.
  const resultsPrefix = `lab/results/${bigJob}/process_results/`
  await s3.send(new PutObjectCommand({Bucket: 'benchjobs', Key: `${resultsPrefix}big.bin`, Body: readFileSync(big)}))
  const results = run(['results', bigJob, '--out', join(work, 'out')])

  // The job's overhead on small jobs: submit.json's PUT to end.txt, minus the command's own run.
  writeFileSync(join(work, 'small.txt'), 'small\n')
  const overheads: number[] = []
  for (let i = 0; i < 3; i++) {
    const {stdout} = run(['submit', join(work, 'small.txt'), '--json', '--wait'])
    const doc = JSON.parse(stdout)
    const submitted = await s3.send(new HeadObjectCommand({Bucket: 'benchjobs', Key: doc.submitKey}))
    const ended = await s3.send(new HeadObjectCommand({Bucket: 'benchjobs', Key: `lab/results/${doc.jobId}/process_results/end.txt`}))
    const record = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({Bucket: 'benchjobs', Key: `lab/results/${doc.jobId}/logs/job.json`}))
      ).Body!.transformToString(),
    )
    const ssm = new SSMClient(client)
    const d = record.datasets[0]
    const invocation = await ssm.send(new GetCommandInvocationCommand({CommandId: d.commandId, InstanceId: d.instanceId}))
    const analysis = Date.parse(invocation.ExecutionEndDateTime!) - Date.parse(invocation.ExecutionStartDateTime!)
    overheads.push(ended.LastModified!.getTime() - submitted.LastModified!.getTime() - analysis)
  }

  // logs --follow latency: a running job (its analysis made slow), a step appended to its record, the line printed.
  const script = join(dir, 'image', 'bin', 'run.sh')
  const original = readFileSync(script, 'utf8')
  writeFileSync(script, original.replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 30\n'))
  const slow = JSON.parse(run(['submit', join(work, 'small.txt'), '--json']).stdout).jobId as string
  const recordKey = `lab/results/${slow}/logs/job.json`
  for (let i = 0; i < 50; i++) {
    const present = await s3.send(new HeadObjectCommand({Bucket: 'benchjobs', Key: recordKey})).then(
      () => true,
      () => false,
    )
    if (present) break
    await new Promise((done) => setTimeout(done, 200))
  }
  const follower = spawn(process.execPath, [ncap, 'logs', slow, '--follow'], {cwd: dir, env})
  let output = ''
  follower.stdout.on('data', (chunk) => {
    output += chunk
  })
  const latencies: number[] = []
  await new Promise((done) => setTimeout(done, 3000))
  for (let i = 0; i < 5; i++) {
    const marker = `bench-marker-${i}-${Date.now()}`
    const record = JSON.parse(await (await s3.send(new GetObjectCommand({Bucket: 'benchjobs', Key: recordKey}))).Body!.transformToString())
    record.steps.push({at: new Date().toISOString(), elapsedMs: 0, message: marker})
    const t0 = Date.now()
    await s3.send(new PutObjectCommand({Bucket: 'benchjobs', Key: recordKey, Body: JSON.stringify(record)}))
    while (!output.includes(marker) && Date.now() - t0 < 10_000) await new Promise((done) => setTimeout(done, 5))
    latencies.push(Date.now() - t0)
  }
  follower.kill()
  writeFileSync(script, original)

  const gib = size / (1024 * MiB)
  printTable('ncap job commands on the embedded emulator (ms; ratios to baselines measured in the same run)', [
    ['what', 'value', 'ratio'],
    [`cp + sync of ${gib} GiB`, `${fmt(cpMs)} ms (${fmt(size / MiB / (cpMs / 1000))} MiB/s)`, '1.0'],
    [
      `ncap submit of ${gib} GiB (CLI start to job id)`,
      `${fmt(submit.ms)} ms (${fmt(size / MiB / (submit.ms / 1000))} MiB/s)`,
      `${fmt(cpMs / submit.ms, 2)}× cp+sync's speed`,
    ],
    [
      `ncap results of ${gib} GiB + the job's files (verified)`,
      `${fmt(results.ms)} ms (${fmt(size / MiB / (results.ms / 1000))} MiB/s)`,
      `${fmt(cpMs / results.ms, 2)}× cp+sync's speed`,
    ],
    ['job overhead: submit.json to end.txt minus the command (median of 3)', `${fmt(median(overheads))} ms`, '-'],
    ['logs --follow: record write to printed line (median of 5)', `${fmt(median(latencies))} ms`, '-'],
  ])
} finally {
  run(['emulator', 'stop', '--state-dir', stateDir], repo)
}
