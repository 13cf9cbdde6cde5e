/**
 * The handlers' SDK clients, loaded on first use (a refusal never pays for the
 * EC2 client's import) and built the same way on AWS and on an emulator: the
 * SDK reads AWS_ENDPOINT_URL itself; an emulator serves buckets by path.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import type {EventBridgeClient} from '@aws-sdk/client-eventbridge'
import type {S3Client} from '@aws-sdk/client-s3'
import type {SSMClient} from '@aws-sdk/client-ssm'

export interface Clients {
  region: string
  s3(): Promise<S3Client>
  ec2(): Promise<EC2Client>
  ssm(): Promise<SSMClient>
  events(): Promise<EventBridgeClient>
}

function onEmulator(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3)
}

export function makeClients(region: string, env: NodeJS.ProcessEnv = process.env): Clients {
  const cache = new Map<string, Promise<unknown>>()
  const once = <T>(name: string, make: () => Promise<T>): Promise<T> => {
    let client = cache.get(name) as Promise<T> | undefined
    if (!client) {
      client = make()
      cache.set(name, client)
    }
    return client
  }
  const base = {region, maxAttempts: 4}
  return {
    region,
    s3: () => once('s3', async () => new (await import('@aws-sdk/client-s3')).S3Client({...base, forcePathStyle: onEmulator(env)})),
    ec2: () => once('ec2', async () => new (await import('@aws-sdk/client-ec2')).EC2Client(base)),
    ssm: () => once('ssm', async () => new (await import('@aws-sdk/client-ssm')).SSMClient(base)),
    events: () => once('events', async () => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(base)),
  }
}

/** An AWS error's code, from any SDK v3 client. */
export function errorCode(error: unknown): string {
  const e = error as {name?: string; Code?: string; code?: string}
  return e?.Code ?? e?.name ?? e?.code ?? 'Error'
}

export function errorMessage(error: unknown): string {
  const e = error as {message?: string}
  const code = errorCode(error)
  const message = e?.message ?? String(error)
  return message.startsWith(code) || code === 'Error' ? message : `${code}: ${message}`
}
