/**
 * A deployed pipeline as every command after `deploy` finds it: the config in
 * DIR, the settings its last deploy saved (target, profile, region, stack name)
 * with this command's flags on top, and the resolved target.
 */
import {dirname} from 'node:path'
import {resolveTarget, type Target} from '../cloud/target.js'
import {loadPipeline, resolveConfigPath} from '../config/index.js'
import type {Pipeline} from '../config/model.js'
import {type DeploySettings, mergeSettings, readSettings, type SettingsFlags} from './settings.js'

export interface PipelineTarget {
  pipeline: Pipeline
  configDir: string
  settings: DeploySettings
  stackName: string
  target: Target
}

export const targetLabel = (s: DeploySettings): string => (s.endpointUrl ? `endpoint ${s.endpointUrl}` : s.target)

export async function pipelineTarget(dir: string, flags: SettingsFlags & {'stack-name'?: string}): Promise<PipelineTarget> {
  const configPath = resolveConfigPath(dir)
  const {pipeline} = await loadPipeline(configPath)
  const configDir = dirname(configPath)
  const settings = mergeSettings(await readSettings(configDir), flags)
  const target = await resolveTarget({
    target: settings.target,
    endpointUrl: settings.endpointUrl,
    profile: settings.profile,
    region: settings.region ?? pipeline.region,
    stateDir: settings.stateDir,
  })
  return {pipeline, configDir, settings, stackName: settings.stackName ?? pipeline.name, target}
}
