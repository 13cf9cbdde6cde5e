/**
 * The step every template command starts with: find the config, load and
 * validate it, compile it in memory. Writing is left to the caller.
 */
import {dirname} from 'node:path'
import {loadPipeline, resolveConfigPath} from '../config/index.js'
import type {Diagnostic, Pipeline} from '../config/model.js'
import {type CompiledStack, compilePipeline} from './index.js'

export interface CompiledProject {
  configPath: string
  configDir: string
  pipeline: Pipeline
  warnings: Diagnostic[]
  compiled: CompiledStack
}

export async function compileProject(dir: string): Promise<CompiledProject> {
  const configPath = resolveConfigPath(dir)
  const {pipeline, warnings} = await loadPipeline(configPath)
  return {configPath, configDir: dirname(configPath), pipeline, warnings, compiled: compilePipeline(pipeline)}
}

export function resourceCount(compiled: CompiledStack): number {
  let count = Object.keys(compiled.main.Resources).length
  for (const nested of Object.values(compiled.nested)) count += Object.keys(nested.Resources).length
  return count
}
