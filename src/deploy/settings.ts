/**
 * The choices of a pipeline's last deploy (target, endpoint, profile, region,
 * stack name), saved beside its stack config as SAM keeps samconfig.toml, so
 * the next `ncap deploy`, `submit` or `logs` needs no flags. Flags given on the
 * command line win and are saved for next time.
 */
import {join} from 'node:path'
import {UsageError} from '../errors.js'
import {readJsonIfExists, writeFileAtomic} from '../store/atomic.js'

export const SETTINGS_FILE = 'ncap-deploy.json'

export type TargetName = 'local' | 'localstack' | 'aws'

export interface DeploySettings {
  target: TargetName
  endpointUrl?: string
  profile?: string
  region?: string
  stackName?: string
  /** The emulator's state folder, when deploying to a local emulator other than the default. */
  stateDir?: string
}

export interface SettingsFlags {
  target?: string
  'endpoint-url'?: string
  profile?: string
  region?: string
  'stack-name'?: string
  'state-dir'?: string
}

export const settingsPath = (configDir: string): string => join(configDir, SETTINGS_FILE)

export async function readSettings(configDir: string): Promise<DeploySettings | undefined> {
  const path = settingsPath(configDir)
  let saved: Partial<DeploySettings> | undefined
  try {
    saved = await readJsonIfExists<Partial<DeploySettings>>(path)
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON (${(error as Error).message}); fix it or delete it to deploy with defaults.`)
  }
  if (!saved) return undefined
  if (saved.target !== undefined && !['local', 'localstack', 'aws'].includes(saved.target)) {
    throw new UsageError(`${path}: target must be local, localstack or aws; found ${JSON.stringify(saved.target)}.`)
  }
  return {target: saved.target ?? 'local', ...saved} as DeploySettings
}

/** Saved settings with the command line's flags on top (flags not given keep the saved value). */
export function mergeSettings(saved: DeploySettings | undefined, flags: SettingsFlags): DeploySettings {
  const target = (flags.target ?? saved?.target ?? 'local') as TargetName
  if (!['local', 'localstack', 'aws'].includes(target)) {
    throw new UsageError(`--target must be local, localstack or aws; got "${target}".`)
  }
  // A new target forgets the old one's endpoint.
  const sameTarget = flags.target === undefined || flags.target === saved?.target
  const merged: DeploySettings = {target}
  // An endpoint overrides the target: naming a target again means that target, not the saved endpoint.
  const endpointUrl = flags['endpoint-url'] ?? (flags.target === undefined ? saved?.endpointUrl : undefined)
  const profile = flags.profile ?? (sameTarget ? saved?.profile : undefined)
  const region = flags.region ?? saved?.region
  const stackName = flags['stack-name'] ?? saved?.stackName
  const stateDir = flags['state-dir'] ?? (sameTarget ? saved?.stateDir : undefined)
  if (endpointUrl) merged.endpointUrl = endpointUrl
  if (profile) merged.profile = profile
  if (region) merged.region = region
  if (stackName) merged.stackName = stackName
  if (stateDir) merged.stateDir = stateDir
  return merged
}

export async function saveSettings(configDir: string, settings: DeploySettings): Promise<void> {
  await writeFileAtomic(settingsPath(configDir), `${JSON.stringify(settings, null, 2)}\n`)
}
