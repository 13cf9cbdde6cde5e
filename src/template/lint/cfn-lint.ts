/** AWS's cfn-lint as a second opinion, when it is installed. */
import {spawn} from 'node:child_process'
import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import path from 'node:path'
import type {Diagnostic} from '../../config/model.js'
import {isRecord, pathOf} from './json-path.js'

export async function findOnPath(command: string, searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, command)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this folder
    }
  }
  return undefined
}

/**
 * Runs `cfn-lint --format json -- <files>`; undefined when cfn-lint is not on PATH.
 * cfn-lint's exit code is a bit mask of what it found (2 errors, 4 warnings, 8 informational);
 * only 1 (or output that is not its JSON) means cfn-lint itself failed.
 */
export async function runCfnLint(files: string[]): Promise<Diagnostic[] | undefined> {
  const executable = await findOnPath('cfn-lint')
  if (!executable) return undefined
  if (files.length === 0) return []
  const {code, stdout, stderr} = await run(executable, ['--format', 'json', '--', ...files])
  let findings: unknown
  try {
    findings = JSON.parse(stdout)
  } catch {
    throw new Error(`cfn-lint failed (exit ${code}): ${(stderr || stdout).trim().slice(0, 2000)}`)
  }
  if (code === 1 || !Array.isArray(findings)) throw new Error(`cfn-lint failed (exit ${code}): ${(stderr || stdout).trim().slice(0, 2000)}`)
  const diagnostics: Diagnostic[] = []
  for (const finding of findings) {
    const diagnostic = toDiagnostic(finding, files)
    if (diagnostic) diagnostics.push(diagnostic)
  }
  return diagnostics
}

function toDiagnostic(finding: unknown, files: string[]): Diagnostic | undefined {
  if (!isRecord(finding)) return undefined
  const level = finding.Level
  if (level !== 'Error' && level !== 'Warning') return undefined // Informational findings are skipped
  const rule = isRecord(finding.Rule) && typeof finding.Rule.Id === 'string' ? finding.Rule.Id : 'unknown'
  const location = isRecord(finding.Location) ? finding.Location : {}
  const segments = Array.isArray(location.Path)
    ? location.Path.filter((s): s is string | number => typeof s === 'string' || typeof s === 'number')
    : []
  const start = isRecord(location.Start) ? location.Start : {}
  const filename = typeof finding.Filename === 'string' ? finding.Filename : ''
  const file = files.find((candidate) => candidate === filename || path.resolve(candidate) === path.resolve(filename)) ?? filename
  const line = typeof start.LineNumber === 'number' ? ` (line ${start.LineNumber})` : ''
  return {
    severity: level === 'Error' ? 'error' : 'warning',
    file,
    path: pathOf(...segments),
    message: `${typeof finding.Message === 'string' ? finding.Message : 'cfn-lint finding'}${line}`,
    rule: `cfn-lint:${rule}`,
  }
}

function run(command: string, args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe']})
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8')}),
    )
  })
}
