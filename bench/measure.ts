/** Small shared pieces of the benchmarks: timing child processes and medians. */
import {spawnSync} from 'node:child_process'
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Runs a command `runs` times (after one warm-up) and returns the median wall time in ms. */
export function timeCommand(
  command: string,
  args: string[],
  runs: number,
  options: {cwd?: string; env?: NodeJS.ProcessEnv; expectStatus?: number} = {},
): number {
  const times: number[] = []
  for (let i = 0; i <= runs; i++) {
    const start = process.hrtime.bigint()
    const result = spawnSync(command, args, {cwd: options.cwd, env: {...process.env, ...options.env}, stdio: ['ignore', 'ignore', 'pipe']})
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (result.status !== (options.expectStatus ?? 0))
      throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
    if (i > 0) times.push(ms)
  }
  return median(times)
}

export function printTable(title: string, rows: (string | number)[][]): void {
  console.log(`\n## ${title}`)
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)))
  for (const row of rows) console.log(row.map((cell, col) => String(cell).padEnd(widths[col]!)).join('  '))
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits)

/**
 * The emulator's main.js compiled by tsc into node_modules/.cache/<cache> (so start-up is the emulator's,
 * not tsx's), with any extra entries a bench loads lazily; src/ through tsx when that fails or BENCH_MAIN=tsx.
 */
export function buildEmulatorMain(cache: string, extraEntries: string[] = []): {args: string[]; from: string} {
  const root = join(import.meta.dirname, '..')
  const source = join(root, 'src', 'emulator', 'main.ts')
  if (process.env.BENCH_MAIN !== 'tsx') {
    const out = join(root, 'node_modules', '.cache', cache)
    rmSync(out, {recursive: true, force: true})
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const options = ['--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022']
    spawnSync(process.execPath, [tsc, source, ...extraEntries.map((e) => join(root, e)), ...options, '--skipLibCheck', '--noCheck'], {
      stdio: 'ignore',
    })
    const main = join(out, 'src', 'emulator', 'main.js')
    if (existsSync(main)) {
      writeFileSync(join(out, 'package.json'), '{"type": "module"}\n')
      return {args: [main], from: `tsc build of src/ in node_modules/.cache/${cache}`}
    }
  }
  return {args: ['--import=tsx', source], from: 'src/ through tsx'}
}
