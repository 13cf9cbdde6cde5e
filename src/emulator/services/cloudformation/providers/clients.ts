/**
 * The AWS SDK v3 clients providers use, pointed at the emulator's own endpoint
 * with the account's admin key, each loaded on first use so that a template of
 * buckets never loads the Lambda client.
 */
import {ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY} from '../../../types.js'

type Ctor<T> = new (config: Record<string, unknown>) => T

/** Loads a module once: a dynamic import() of a loaded module still costs a resolve (through any loader hooks) per call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined
  return () => {
    loaded ??= load()
    return loaded
  }
}

/** The SDK packages providers and the engine use, each loaded on first use and then kept. */
export const sdk = {
  s3: once(() => import('@aws-sdk/client-s3')),
  iam: once(() => import('@aws-sdk/client-iam')),
  lambda: once(() => import('@aws-sdk/client-lambda')),
  logs: once(() => import('@aws-sdk/client-cloudwatch-logs')),
  events: once(() => import('@aws-sdk/client-eventbridge')),
  secrets: once(() => import('@aws-sdk/client-secrets-manager')),
  ssm: once(() => import('@aws-sdk/client-ssm')),
  ec2: once(() => import('@aws-sdk/client-ec2')),
}

export class Clients {
  private readonly made = new Map<string, unknown>()

  constructor(
    readonly endpoint: string,
    readonly region: string,
  ) {}

  private async get<T>(key: string, load: () => Promise<Ctor<T>>, extra: Record<string, unknown> = {}): Promise<T> {
    let client = this.made.get(key) as T | undefined
    if (!client) {
      const Client = await load()
      client = new Client({
        endpoint: this.endpoint,
        region: this.region,
        credentials: {accessKeyId: ADMIN_ACCESS_KEY_ID, secretAccessKey: ADMIN_SECRET_ACCESS_KEY},
        maxAttempts: 2,
        ...extra,
      })
      this.made.set(key, client)
    }
    return client
  }

  s3() {
    return this.get('s3', async () => (await sdk.s3()).S3Client, {forcePathStyle: true})
  }
  iam() {
    return this.get('iam', async () => (await sdk.iam()).IAMClient)
  }
  lambda() {
    return this.get('lambda', async () => (await sdk.lambda()).LambdaClient)
  }
  logs() {
    return this.get('logs', async () => (await sdk.logs()).CloudWatchLogsClient)
  }
  events() {
    return this.get('events', async () => (await sdk.events()).EventBridgeClient)
  }
  secrets() {
    return this.get('secrets', async () => (await sdk.secrets()).SecretsManagerClient)
  }
  ssm() {
    return this.get('ssm', async () => (await sdk.ssm()).SSMClient)
  }
  ec2() {
    return this.get('ec2', async () => (await sdk.ec2()).EC2Client)
  }

  destroy(): void {
    for (const client of this.made.values()) (client as {destroy?: () => void}).destroy?.()
    this.made.clear()
  }
}
