/**
 * The compiler at scale: 2,000 users in 200 groups (identity split into nested
 * stacks), compiled N times in a child process that reports its median time and
 * peak RSS. Baselines from the same run: a child that only loads the compiler
 * (RSS floor), and JSON.parse + JSON.stringify of the same output (the least it
 * costs to produce those bytes). Aims: <= 2 s and <= 300 MB. Figures, not pass/fail.
 */
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {compilePipeline, serializeTemplate} from '../src/template/index.js'
import {largePipeline} from '../test/template/pipelines.js'
import {fmt, median, printTable} from './measure.js'

const RUNS = Number(process.env.BENCH_COMPILE_RUNS ?? 7)
const USERS = 2000
const GROUPS = 200

interface ChildReport {
  compileMs: number
  writeMs: number
  baselineMs: number
  bytes: number
  templates: number
  maxRssMb: number
}

function child(mode: 'compile' | 'load'): void {
  if (mode === 'load') {
    process.stdout.write(JSON.stringify({maxRssMb: process.resourceUsage().maxRSS / 1024}))
    return
  }
  const pipeline = largePipeline(USERS, GROUPS)
  const compileTimes: number[] = []
  const writeTimes: number[] = []
  const baselineTimes: number[] = []
  let bytes = 0
  let templates = 0
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now()
    const compiled = compilePipeline(pipeline)
    const t1 = performance.now()
    const texts = [serializeTemplate(compiled.main), ...Object.values(compiled.nested).map(serializeTemplate)]
    const t2 = performance.now()
    const copies = texts.map((text) => JSON.stringify(JSON.parse(text), null, 2))
    const t3 = performance.now()
    if (i === 0) continue // warm-up
    compileTimes.push(t1 - t0)
    writeTimes.push(t2 - t1)
    baselineTimes.push(t3 - t2)
    bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0)
    templates = copies.length
  }
  const report: ChildReport = {
    compileMs: median(compileTimes),
    writeMs: median(writeTimes),
    baselineMs: median(baselineTimes),
    bytes,
    templates,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }
  process.stdout.write(JSON.stringify(report))
}

function runChild(mode: 'compile' | 'load'): Record<string, number> {
  const script = fileURLToPath(import.meta.url)
  const result = spawnSync(process.execPath, ['--import=tsx', script, `--child=${mode}`], {encoding: 'utf8', maxBuffer: 1 << 20})
  if (result.status !== 0) throw new Error(`bench child (${mode}) exited ${result.status}: ${result.stderr}`)
  return JSON.parse(result.stdout) as Record<string, number>
}

const mode = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length)
if (mode === 'compile' || mode === 'load') {
  child(mode)
} else {
  const floor = runChild('load')
  const r = runChild('compile') as unknown as ChildReport
  printTable(`compile ${USERS} users in ${GROUPS} groups (median of ${RUNS})`, [
    ['figure', 'value', 'ratio'],
    ['compile (ms)', fmt(r.compileMs), `${fmt(r.compileMs / r.baselineMs, 2)}x JSON parse+stringify of the output`],
    ['serialize (ms)', fmt(r.writeMs), `${fmt(r.writeMs / r.baselineMs, 2)}x JSON parse+stringify of the output`],
    ['baseline: parse+stringify (ms)', fmt(r.baselineMs), '1x'],
    ['templates', r.templates, ''],
    ['output (MB)', fmt(r.bytes / 1e6, 2), ''],
    [
      'peak RSS (MB)',
      fmt(r.maxRssMb),
      `${fmt(r.maxRssMb / floor.maxRssMb!, 2)}x a child that only loads the compiler (${fmt(floor.maxRssMb!)} MB)`,
    ],
    ['aims', '<= 2000 ms, <= 300 MB', r.compileMs + r.writeMs <= 2000 && r.maxRssMb <= 300 ? 'met' : 'missed'],
  ])
}
