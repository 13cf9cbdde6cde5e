/** Small shared pieces of the benchmarks: timing child processes and medians. */
import {spawnSync} from 'node:child_process'

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
