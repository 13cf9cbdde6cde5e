/**
 * The workspace: the folder holding this pipeline's folder. Every sibling folder with a
 * stack_config_template.json is another pipeline; a user declared by several pipelines
 * is created by one of them and referenced by the others (IAM user names are global).
 */
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {CONFIG_FILE_NAME, readJsonFile} from './load.js'
import type {Diagnostic} from './model.js'
import {asArray, asObject, asString} from './rules.js'

/** One user as another pipeline of the workspace declares it. */
export interface WorkspaceUser {
  /** That pipeline's PipelineName. */
  pipelineName: string
  /** That pipeline's config file (absolute). */
  file: string
  /** The user name as declared there. */
  user: string
  /** true when that pipeline lists the user in Ncap.ExistingUsers (it does not create it). */
  listedExisting: boolean
}

/** Reads the other pipelines of the workspace; a sibling that does not parse is skipped with a warning. */
export function scanWorkspace(workspaceDir: string, ownFile: string): {users: WorkspaceUser[]; warnings: Diagnostic[]} {
  const users: WorkspaceUser[] = []
  const warnings: Diagnostic[] = []
  let entries: string[]
  try {
    entries = readdirSync(workspaceDir, {withFileTypes: true})
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
      .map((e) => e.name)
      .sort()
  } catch {
    return {users, warnings}
  }
  const own = path.resolve(ownFile)
  for (const entry of entries) {
    const file = path.join(workspaceDir, entry, CONFIG_FILE_NAME)
    if (file === own) continue
    const parsed = readJsonFile(file)
    if (!parsed.ok) {
      if (parsed.diagnostic.rule === 'file') continue // no config there: not a pipeline
      warnings.push(skipped(file, parsed.diagnostic.message))
      continue
    }
    const root = asObject(parsed.value)
    const pipelineName = asString(root?.PipelineName)
    if (!root || !pipelineName) {
      warnings.push(skipped(file, 'no PipelineName'))
      continue
    }
    const existing = new Set(
      asArray(asObject(root.Ncap)?.ExistingUsers)
        .filter((u): u is string => typeof u === 'string')
        .map((u) => u.toLowerCase()),
    )
    for (const affiliate of asArray(asObject(root.UXData)?.Affiliates))
      for (const user of asArray(asObject(affiliate)?.UserNames))
        if (typeof user === 'string') users.push({pipelineName, file, user, listedExisting: existing.has(user.toLowerCase())})
  }
  return {users, warnings}
}

function skipped(file: string, reason: string): Diagnostic {
  return {severity: 'warning', file, path: '$', message: `workspace pipeline skipped (${reason})`, rule: 'workspace'}
}

export interface Ownership {
  existing: boolean
  createdBy?: string
  createdByFile?: string
}

/**
 * Who creates a user: among the pipelines declaring it that do not list it as existing,
 * the one whose PipelineName sorts first. Every pipeline computes the same answer alone.
 */
export function ownership(user: string, pipelineName: string, listedExisting: boolean, workspace: readonly WorkspaceUser[]): Ownership {
  if (listedExisting) return {existing: true}
  const key = user.toLowerCase()
  let creator: {name: string; file?: string} = {name: pipelineName}
  for (const other of workspace) {
    if (other.user.toLowerCase() !== key || other.listedExisting) continue
    if (other.pipelineName < creator.name) creator = {name: other.pipelineName, file: other.file}
  }
  if (creator.name === pipelineName) return {existing: false}
  return {existing: true, createdBy: creator.name, ...(creator.file ? {createdByFile: creator.file} : {})}
}
