/**
 * THE one AWS SDK client factory: every command builds its clients here, so the
 * endpoint, region, credentials and retry policy of the resolved target apply
 * everywhere. It imports no client itself; callers load theirs lazily:
 *   const {S3Client} = await import('@aws-sdk/client-s3')
 *   const s3 = createClient(S3Client, target)
 */
import type {Target} from './target.js'

export interface ClientOptions {
  /** Attempts per call, retries included (default 3). */
  maxAttempts?: number
}

/** The settings the factory passes; S3 clients read forcePathStyle, other clients ignore it. */
export interface ClientSettings {
  region: string
  endpoint?: string
  credentials?: Target['credentials']
  maxAttempts: number
  forcePathStyle?: boolean
}

export function clientSettings(target: Target, options: ClientOptions = {}): ClientSettings {
  const settings: ClientSettings = {region: target.region, maxAttempts: options.maxAttempts ?? 3}
  if (target.endpoint) settings.endpoint = target.endpoint
  // A copy: the SDK annotates the credentials object it is given, and targets are shared.
  if (target.credentials) settings.credentials = typeof target.credentials === 'function' ? target.credentials : {...target.credentials}
  // Emulators serve buckets by path, not by virtual host (bucket.127.0.0.1 does not resolve).
  if (target.kind !== 'aws') settings.forcePathStyle = true
  return settings
}

/** Any SDK v3 client class whose configuration accepts these settings (S3Client, IAMClient, STSClient, …). */
export type ClientClass<C> = new (config: ClientSettings) => C

export function createClient<C>(ClientClass: ClientClass<C>, target: Target, options: ClientOptions = {}): C {
  return new ClientClass(clientSettings(target, options))
}
