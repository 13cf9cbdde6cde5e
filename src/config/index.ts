/**
 * The stack config: find it, read it, check it, and hand back the normalized Pipeline
 * with its warnings, or a ConfigError listing every error.
 */
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'
import {checkPipeline} from './check.js'
import {ConfigError} from './errors.js'
import {readJsonFile, resolveConfigPath} from './load.js'
import type {Diagnostic, Pipeline} from './model.js'
import {scanWorkspace, type WorkspaceUser} from './workspace.js'

export type {CheckOptions, CheckResult} from './check.js'
export {checkPipeline} from './check.js'
export {ConfigError, formatDiagnostic} from './errors.js'
export {CONFIG_FILE_NAME, resolveConfigPath} from './load.js'
export type {Diagnostic, Pipeline} from './model.js'
export type {WorkspaceUser} from './workspace.js'
export {scanWorkspace} from './workspace.js'

/**
 * Reads, parses and checks a config. The workspace (the folder above the pipeline's,
 * unless `workspaceDir` names another; `false` for none) decides who creates shared users.
 * Returns warnings; throws ConfigError listing ALL errors when any.
 */
export async function loadPipeline(
  fileOrDir: string,
  options: {workspaceDir?: string | false} = {},
): Promise<{pipeline: Pipeline; warnings: Diagnostic[]}> {
  const file = resolveConfigPath(fileOrDir)
  const parsed = readJsonFile(file)
  if (!parsed.ok) throw new ConfigError([parsed.diagnostic])
  let workspace: WorkspaceUser[] = []
  const warnings: Diagnostic[] = []
  const workspaceDir = options.workspaceDir ?? defaultWorkspace(file)
  if (workspaceDir !== false) {
    const scanned = scanWorkspace(path.resolve(workspaceDir), file)
    workspace = scanned.users
    warnings.push(...scanned.warnings)
  }
  const result = checkPipeline(parsed.value, file, {workspace})
  warnings.push(...result.warnings)
  if (result.errors.length > 0 || !result.pipeline) throw new ConfigError(result.errors, warnings)
  return {pipeline: result.pipeline, warnings}
}

/**
 * The folder above the pipeline's, unless that is a catch-all (the system temp folder,
 * the home folder, the file-system root): pipelines that merely sit side by side there
 * are not a workspace, and must not change each other's templates.
 */
function defaultWorkspace(file: string): string | false {
  const parent = path.dirname(path.dirname(file))
  const catchAll = [tmpdir(), homedir(), path.parse(parent).root].map((p) => path.resolve(p))
  return catchAll.includes(path.resolve(parent)) ? false : parent
}
