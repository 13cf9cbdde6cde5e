/**
 * `ncap deploy` on the embedded emulator, through the built CLI: a fresh
 * pipeline (every resource created, handlers bundled and uploaded) and an
 * unchanged one (built, bundled, no change found), as ratios to `node -e 0`
 * measured in the same run; and `ncap destroy`.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fmt, median, printTable, timeCommand} from './measure.js'

const repo = join(import.meta.dirname, '..')
const ncap = join(repo, 'bin', 'run.js')
const runs = Number(process.env.BENCH_RUNS ?? 3)
const work = mkdtempSync(join(tmpdir(), 'ncap-bench-deploy-'))
const stateDir = join(work, 'state')
const env = {...process.env, CI: 'true', NCAP_HOME: join(work, 'home')}

function run(args: string[], cwd = repo): number {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [ncap, ...args], {cwd, env, encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`ncap ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

run(['emulator', 'start', '--port', '0', '--state-dir', stateDir])
try {
  const baseline = timeCommand(process.execPath, ['-e', '0'], 10)
  const fresh: number[] = []
  const unchanged: number[] = []
  const destroy: number[] = []
  for (let i = 0; i <= runs; i++) {
    // Each in a workspace of its own: pipelines side by side share users (the first by name creates them).
    const dir = join(work, `ws-${i}`, `bench-${i}`)
    run(['init', dir, '--name', `bench-deploy-${i}`, '--group', 'lab:alice,bob', '--yes'])
    const created = run(['deploy', '--state-dir', stateDir, '--yes'], dir)
    // The first deploy also creates the assets bucket and warms the emulator's services: left out of the median.
    if (i > 0) fresh.push(created)
    for (let j = 0; j < 2; j++) unchanged.push(run(['deploy', '--yes'], dir))
    destroy.push(run(['destroy', '--yes'], dir))
  }
  printTable(`ncap deploy on the embedded emulator (median of ${runs}; ms; ratio to node -e 0 in the same run)`, [
    ['what', 'ms', 'ratio'],
    ['node -e 0', fmt(baseline), '1.0'],
    ['deploy, fresh pipeline (28 resources)', fmt(median(fresh)), fmt(median(fresh) / baseline, 1)],
    ['deploy, unchanged (no change found)', fmt(median(unchanged)), fmt(median(unchanged) / baseline, 1)],
    ['destroy', fmt(median(destroy)), fmt(median(destroy) / baseline, 1)],
  ])
} finally {
  run(['emulator', 'stop', '--state-dir', stateDir])
}
