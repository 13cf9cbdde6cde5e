/**
 * `ncap validate`: config errors and warnings, then the compiled templates
 * through ncap's own linter and, when it is installed, AWS's cfn-lint.
 * Templates are linted from a temporary folder, so validating never writes
 * beside the config.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ConfigError} from '../config/index.js'
import type {Diagnostic} from '../config/model.js'
import {isSupportedResourceType, unsupportedTypeMessage} from '../emulator/services/cloudformation/supported.js'
import {compileProject} from './from-config.js'
import {COMPILED_TEMPLATE, writeCompiled} from './index.js'
import {lintTemplate, runCfnLint} from './lint/index.js'

export interface ValidationReport {
  config: string
  errors: Diagnostic[]
  warnings: Diagnostic[]
  /** 'ran', 'not installed', 'skipped' (--no-cfn-lint) or 'not reached' (config errors stop before compiling). */
  cfnLint: 'ran' | 'not installed' | 'skipped' | 'not reached'
  /** Exit code: 0 clean or warnings only, 2 config errors, 1 template errors. */
  exitCode: number
}

export async function validateProject(dir: string, options: {cfnLint: boolean; target?: 'aws' | 'local'}): Promise<ValidationReport> {
  let project: Awaited<ReturnType<typeof compileProject>>
  try {
    project = await compileProject(dir)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const all = [...error.diagnostics, ...((error as ConfigError & {warnings?: Diagnostic[]}).warnings ?? [])]
    return {
      config: dir,
      errors: all.filter((d) => d.severity === 'error'),
      warnings: all.filter((d) => d.severity === 'warning'),
      cfnLint: 'not reached',
      exitCode: 2,
    }
  }
  const findings: Diagnostic[] = []
  const relativeMain = COMPILED_TEMPLATE
  findings.push(...(await lintTemplate(project.compiled.main, {file: relativeMain, nested: project.compiled.nested})))
  if (options.target === 'local') {
    // The embedded emulator's CloudFormation refuses any other type before it creates anything: say so offline.
    const templates = [[relativeMain, project.compiled.main] as const, ...Object.entries(project.compiled.nested)]
    for (const [file, template] of templates) {
      for (const [id, resource] of Object.entries(template.Resources)) {
        if (isSupportedResourceType(resource.Type)) continue
        findings.push({
          severity: 'error',
          file,
          path: `$.Resources.${id}.Type`,
          message: unsupportedTypeMessage(resource.Type),
          found: resource.Type,
          rule: 'emulator-resource-type',
        })
      }
    }
  }
  let cfnLint: ValidationReport['cfnLint'] = 'skipped'
  if (options.cfnLint) {
    const scratch = await mkdtemp(join(tmpdir(), 'ncap-validate-'))
    try {
      const files = await writeCompiled(scratch, project.compiled)
      const found = await runCfnLint(files)
      cfnLint = found === undefined ? 'not installed' : 'ran'
      for (const d of found ?? []) findings.push({...d, file: d.file.startsWith(scratch) ? d.file.slice(scratch.length + 1) : d.file})
    } finally {
      await rm(scratch, {recursive: true, force: true})
    }
  }
  const errors = findings.filter((d) => d.severity === 'error')
  return {
    config: project.configPath,
    errors,
    warnings: [...project.warnings, ...findings.filter((d) => d.severity === 'warning')],
    cfnLint,
    exitCode: errors.length > 0 ? 1 : 0,
  }
}
