/**
 * One code path, several targets: where AWS calls go and with which credentials.
 * local (default) is the embedded emulator, started when it is not running;
 * localstack is a LocalStack on 4566; aws is the standard credential chain;
 * an endpoint URL reaches any AWS-compatible server (moto_server, for one).
 */
import type {fromNodeProviderChain} from '@aws-sdk/credential-providers'
import {ensureEmulator} from '../emulator/lifecycle.js'
import {resolveStateDir} from '../emulator/paths.js'
import {ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY, DEFAULT_REGION} from '../emulator/types.js'
import {UsageError} from '../errors.js'
import {localstackEndpoint} from './localstack.js'

/** The SDK's credential provider type, named through the package ncap already depends on. */
export type CredentialProvider = ReturnType<typeof fromNodeProviderChain>
export type Credentials = Awaited<ReturnType<CredentialProvider>>

export type TargetKind = 'local' | 'localstack' | 'aws' | 'endpoint'

export interface Target {
  kind: TargetKind
  /** Absent for aws: the SDK picks the regional endpoint. */
  endpoint?: string
  region: string
  credentials?: Credentials | CredentialProvider
}

export interface TargetOptions {
  target?: 'local' | 'localstack' | 'aws'
  /** Overrides target: any AWS-compatible endpoint. */
  endpointUrl?: string
  profile?: string
  region?: string
  /** The local emulator's state folder (default: $NCAP_HOME/emulator or the per-user data folder). */
  stateDir?: string
}

/** The emulator's and LocalStack's admin key pair. Targets get copies: the SDK annotates the object it is given. */
export const EMULATOR_CREDENTIALS: Readonly<Credentials> = {accessKeyId: ADMIN_ACCESS_KEY_ID, secretAccessKey: ADMIN_SECRET_ACCESS_KEY}
const emulatorCredentials = (): Credentials => ({...EMULATOR_CREDENTIALS})

function regionFor(options: TargetOptions, env: NodeJS.ProcessEnv): string {
  return options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION
}

function envCredentials(env: NodeJS.ProcessEnv): Credentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined
  return {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined}
}

export async function resolveTarget(options: TargetOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const region = regionFor(options, env)
  if (options.endpointUrl) {
    let url: URL
    try {
      url = new URL(options.endpointUrl)
    } catch {
      throw new UsageError(`--endpoint-url "${options.endpointUrl}" is not a URL (expected e.g. http://127.0.0.1:5000).`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`--endpoint-url "${options.endpointUrl}" must be http:// or https://.`)
    }
    const endpoint = options.endpointUrl.replace(/\/+$/, '')
    return {kind: 'endpoint', endpoint, region, credentials: envCredentials(env) ?? emulatorCredentials()}
  }
  switch (options.target ?? 'local') {
    case 'local': {
      const running = await ensureEmulator({stateDir: resolveStateDir(options.stateDir, env)})
      return {kind: 'local', endpoint: running.endpoint, region, credentials: emulatorCredentials()}
    }
    case 'localstack':
      return {kind: 'localstack', endpoint: await localstackEndpoint(env), region, credentials: emulatorCredentials()}
    case 'aws': {
      // Loaded here so local runs never pay for the credential chain's imports.
      const {fromNodeProviderChain} = await import('@aws-sdk/credential-providers')
      return {kind: 'aws', region, credentials: fromNodeProviderChain(options.profile ? {profile: options.profile} : {})}
    }
    default:
      throw new UsageError(`Unknown target "${String(options.target)}": expected local, localstack or aws.`)
  }
}
