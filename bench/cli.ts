/**
 * CLI start-up and build times as ratios to `node -e 0`, measured in the same run:
 * `ncap --help`, `ncap build` of the seed example, and validate + build of every
 * real NeuroCAAS blueprint that builds. Uses the built entry (npm run build first).
 */
import {cpSync, mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fmt, median, printTable, timeCommand} from './measure.js'

const repo = join(import.meta.dirname, '..')
const ncap = join(repo, 'bin', 'run.js')
const runs = Number(process.env.BENCH_RUNS ?? 10)
const env = {CI: 'true'}

const work = mkdtempSync(join(tmpdir(), 'ncap-bench-cli-'))
const seed = join(work, 'seed')
cpSync(join(repo, 'test', 'fixtures', 'seed'), seed, {recursive: true})

/** All eight real blueprints: six build, two are refused (exit 2) by name. */
const blueprints = [
  'dlc_web_stack',
  'caiman_dev_stack',
  'label-job-create',
  'sam_dlc_stack',
  'radical',
  'epi_web_stack',
  'sam_locanmf_stack',
  'sam_abstraction_stack',
]
const refused = new Set(['sam_locanmf_stack', 'sam_abstraction_stack'])
const blueprintDirs = blueprints.map((name) => {
  // Each in a workspace of its own, so that neighbours do not change who creates a user.
  const dir = join(work, 'blueprints', name, name)
  mkdirSync(dir, {recursive: true})
  cpSync(join(repo, '..', 'shared', 'fixtures', 'neurocaas-blueprints', `${name}.json`), join(dir, 'stack_config_template.json'))
  return dir
})

const baseline = timeCommand(process.execPath, ['-e', '0'], runs)
const help = timeCommand(process.execPath, [ncap, '--help'], runs, {env})
const build = timeCommand(process.execPath, [ncap, 'build', seed], runs, {env})
const allBlueprints: number[] = []
for (let i = 0; i < Math.max(3, Math.floor(runs / 3)); i++) {
  const start = process.hrtime.bigint()
  for (const [i, dir] of blueprintDirs.entries()) {
    const expectStatus = refused.has(blueprints[i]!) ? 2 : 0
    timeCommand(process.execPath, [ncap, 'validate', dir, '--no-cfn-lint'], 0, {env, expectStatus})
    timeCommand(process.execPath, [ncap, 'build', dir], 0, {env, expectStatus})
  }
  allBlueprints.push(Number(process.hrtime.bigint() - start) / 1e6)
}
const blueprintsMs = median(allBlueprints)

printTable(`CLI start-up (median of ${runs}, ms; ratio to node -e 0 in the same run)`, [
  ['what', 'ms', 'ratio'],
  ['node -e 0', fmt(baseline), '1.0'],
  ['ncap --help', fmt(help), fmt(help / baseline, 2)],
  ['ncap build (seed example)', fmt(build), fmt(build / baseline, 2)],
  [
    `validate + build, all ${blueprints.length} blueprints (${blueprints.length * 2} runs)`,
    fmt(blueprintsMs),
    fmt(blueprintsMs / baseline, 2),
  ],
])
