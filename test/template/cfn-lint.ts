/**
 * AWS's cfn-lint as a test oracle: one process per batch of files (each start
 * costs about a second), findings parsed from its JSON output. Warnings that
 * ncap's templates cannot avoid are listed in KNOWN_WARNINGS.
 */
import {spawn} from 'node:child_process'
import {mkdtemp, readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {CompiledStack} from '../../src/template/index.js'
import {writeCompiled} from '../../src/template/index.js'

export interface CfnLintFinding {
  Rule: {Id: string}
  Level: 'Error' | 'Warning' | 'Informational'
  Message: string
  Filename: string
  Location?: {Start?: {LineNumber?: number}}
}

/** W3002: a relative TemplateURL needs `aws cloudformation package` (or `ncap deploy`) to upload it, by design. */
export const KNOWN_WARNINGS = new Set(['W3002'])

function runOnce(files: string[]): Promise<CfnLintFinding[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--format', 'json', '--', ...files], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      // cfn-lint exits non-zero when it finds something; only unreadable output is a failure here.
      try {
        resolve(stdout.trim() === '' ? [] : (JSON.parse(stdout) as CfnLintFinding[]))
      } catch {
        reject(new Error(`cfn-lint exited ${code}: ${stderr || stdout}`))
      }
    })
  })
}

/** Lints the files in `workers` parallel cfn-lint processes (the machine has two cores). */
export async function cfnLint(files: string[], workers = 1): Promise<CfnLintFinding[]> {
  const batches: string[][] = Array.from({length: Math.min(workers, files.length)}, () => [])
  for (const [index, file] of files.entries()) batches[index % batches.length]!.push(file)
  const results = await Promise.all(batches.map((batch) => runOnce(batch)))
  return results.flat()
}

export function unexpected(findings: CfnLintFinding[]): string[] {
  return findings
    .filter((f) => f.Level === 'Error' || (f.Level === 'Warning' && !KNOWN_WARNINGS.has(f.Rule.Id)))
    .map((f) => `${f.Filename}:${f.Location?.Start?.LineNumber ?? '?'} ${f.Rule.Id} ${f.Message}`)
}

/** Writes a compiled stack into a fresh temp folder; returns every template file in it. */
export async function writeToTemp(compiled: CompiledStack, label = 'ncap-template-'): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), label))
  return writeCompiled(dir, compiled)
}

export async function listJson(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => join(dir, f))
}
