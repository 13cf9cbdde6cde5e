/**
 * `npm run bench`: every benchmark, one after another, each printing medians and
 * ratios to a baseline measured in the same run. Figures, never pass/fail.
 * BENCH_ONLY=cli,deploy,jobs picks some.
 */
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

const all = [
  'cli',
  'compile',
  'emulator',
  's3-versions',
  'secrets',
  'lambda',
  'events',
  'instances',
  'ssm',
  'cloudformation',
  'invoke',
  'deploy',
  'jobs',
  'trace',
  'cleanup',
]
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : all
let failed = 0
for (const name of only) {
  const script = join(import.meta.dirname, `${name}.ts`)
  if (!existsSync(script)) {
    console.error(`bench: no ${name}.ts`)
    failed++
    continue
  }
  console.log(`\n# ${name}`)
  const result = spawnSync(process.execPath, ['--import=tsx', script], {stdio: 'inherit', env: {...process.env, CI: 'true'}})
  if (result.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
