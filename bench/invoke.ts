/**
 * `ncap invoke` cold (no bundle cached) and warm (bundle reused) as ratios to
 * `node -e 0`, and the job's overhead on the emulator: a 3-dataset submit.json
 * PUT to end.txt, minus the analysis's own time (the longest of the three SSM
 * commands, as SSM timed them), with the scaffold's run.sh and the real handlers.
 *   node --import=tsx bench/invoke.ts        (BENCH_RUNS=3 by default)
 * Uses the built CLI when dist/ exists, else the sources through tsx (said in the output).
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PutObjectCommand} from '@aws-sdk/client-s3'
import {GetCommandInvocationCommand} from '@aws-sdk/client-ssm'
import {type JobRecord, jobPaths} from '../lambda_repo/lib/index.js'
import {deployPipeline, eventually, startEmulator, text} from '../test/lambda_repo/emulator-pipeline.js'
import {fmt, median, printTable, timeCommand} from './measure.js'

const repo = join(import.meta.dirname, '..')
const runs = Number(process.env.BENCH_RUNS ?? 3)
const built = existsSync(join(repo, 'dist', 'commands')) && existsSync(join(repo, 'oclif.manifest.json'))
const entry = built ? [join(repo, 'bin', 'run.js')] : ['--import=tsx', '--no-warnings', join(repo, 'bin', 'dev.js')]
const env = {CI: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test'}

/** One run of a command, timed without blocking this process (which serves the emulator the command calls). */
function timeOnce(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, args, {env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (c) => {
      stderr = (stderr + c).slice(-2000)
    })
    child.on('error', fail)
    child.on('close', (code) =>
      code === 0 ? done(Number(process.hrtime.bigint() - start) / 1e6) : fail(new Error(`exit ${code}: ${stderr}`)),
    )
  })
}

const e = await startEmulator()
try {
  // A pipeline made by ncap init, invoked against the emulator.
  const work = mkdtempSync(join(tmpdir(), 'ncap-bench-invoke-'))
  const dir = join(work, 'bench-pipe')
  const init = spawnSync(process.execPath, [...entry, 'init', dir, '--name', 'bench-pipe', '--group', 'lab:alice'], {
    env: {...process.env, ...env},
  })
  if (init.status !== 0) throw new Error(`ncap init failed: ${init.stderr}`)
  const {CreateBucketCommand} = await import('@aws-sdk/client-s3')
  await e.s3.send(new CreateBucketCommand({Bucket: 'bench-pipe'}))
  const invokeArgs = [
    ...entry,
    'invoke',
    'MonitorFunction',
    '--dir',
    dir,
    '--event',
    join(dir, 'simevents', 'schedule.json'),
    '--endpoint-url',
    e.server.endpoint,
  ]
  const cache = join(tmpdir(), 'ncap-invoke')

  const baseline = timeCommand(process.execPath, ['-e', '0'], runs)
  const coldTimes: number[] = []
  for (let i = 0; i < runs; i++) {
    rmSync(cache, {recursive: true, force: true})
    coldTimes.push(await timeOnce(invokeArgs))
  }
  const cold = median(coldTimes)
  const warmTimes: number[] = []
  for (let i = 0; i < runs; i++) warmTimes.push(await timeOnce(invokeArgs))
  const warm = median(warmTimes)

  // The job's overhead: submit.json PUT to end.txt, minus the longest command.
  const overheads: number[] = []
  const totals: number[] = []
  for (let i = 0; i < runs; i++) {
    const bucket = `bench-job-${i}`
    await deployPipeline(e, bucket)
    const datasets = ['lab/inputs/a.bin', 'lab/inputs/b.bin', 'lab/inputs/c.bin']
    for (const d of datasets) await e.s3.send(new PutObjectCommand({Bucket: bucket, Key: d, Body: Buffer.alloc(1024, i)}))
    await e.s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/configs/c.yaml', Body: '__duration__: 20\n'}))
    const started = Date.now()
    await e.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'lab/submissions/submit.json',
        Body: JSON.stringify({dataname: datasets, configname: 'lab/configs/c.yaml', timestamp: `b${i}`}),
      }),
    )
    const job = jobPaths(bucket, 'lab', 'results', `job__${bucket}_b${i}`)
    await eventually('end.txt', () => text(e, bucket, job.end), 180_000)
    const total = Date.now() - started
    const record = JSON.parse((await text(e, bucket, job.record))!) as JobRecord
    let analysis = 0
    for (const d of record.datasets) {
      // SSM's own timing of the command: its execution start and end.
      const detail = await e.ssm.send(new GetCommandInvocationCommand({CommandId: d.commandId!, InstanceId: d.instanceId!}))
      const start = Date.parse(detail.ExecutionStartDateTime ?? '')
      const end = Date.parse(detail.ExecutionEndDateTime ?? '')
      if (Number.isFinite(start) && Number.isFinite(end)) analysis = Math.max(analysis, end - start)
    }
    totals.push(total)
    overheads.push(total - analysis)
  }

  printTable(
    `ncap invoke (${built ? 'built dist/' : 'sources through tsx: npm run build for the shipped figures'}; median of ${runs}, ms)`,
    [
      ['what', 'ms', 'ratio to node -e 0'],
      ['node -e 0', fmt(baseline), '1.0'],
      ['ncap invoke MonitorFunction, cold (bundled on the fly)', fmt(cold), fmt(cold / baseline, 2)],
      ['ncap invoke MonitorFunction, warm (bundle reused)', fmt(warm), fmt(warm / baseline, 2)],
    ],
  )
  printTable(`A 3-dataset job on the emulator (median of ${runs}, ms; aim: overhead <= 1000)`, [
    ['what', 'ms'],
    ['submit.json PUT to end.txt', fmt(median(totals))],
    ['overhead (minus the longest command as SSM timed it)', fmt(median(overheads))],
  ])
} finally {
  await e.server.close()
}
