/** The bucket as the job protocol uses it: text and JSON objects, listings, a create-once write. */
import type {S3Client} from '@aws-sdk/client-s3'
import {errorCode} from './aws.js'

const MISSING = new Set(['NoSuchKey', 'NotFound', '404'])

export class Bucket {
  constructor(
    private readonly client: S3Client,
    readonly name: string,
  ) {}

  private async s3() {
    return import('@aws-sdk/client-s3')
  }

  async getText(key: string): Promise<string | undefined> {
    const {GetObjectCommand} = await this.s3()
    try {
      const out = await this.client.send(new GetObjectCommand({Bucket: this.name, Key: key}))
      return await out.Body!.transformToString()
    } catch (error) {
      // Only a missing key: a missing bucket (NoSuchBucket, also a 404) is the deployment's error.
      if (MISSING.has(errorCode(error))) return undefined
      throw error
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key)
    if (text === undefined) return undefined
    try {
      return JSON.parse(text) as T
    } catch {
      return undefined
    }
  }

  async exists(key: string): Promise<boolean> {
    const {HeadObjectCommand} = await this.s3()
    try {
      await this.client.send(new HeadObjectCommand({Bucket: this.name, Key: key}))
      return true
    } catch (error) {
      if (MISSING.has(errorCode(error)) || (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404)
        return false
      throw error
    }
  }

  /** Whether a key exists, or (for a folder key ending in /) holds at least one object. */
  async dataExists(key: string): Promise<boolean> {
    if (!key.endsWith('/')) return this.exists(key)
    const keys = await this.list(key, 2)
    return keys.some((k) => k !== key)
  }

  /** Returns the new object's ETag. */
  async putText(key: string, body: string, contentType = 'text/plain; charset=utf-8'): Promise<string | undefined> {
    const {PutObjectCommand} = await this.s3()
    return (await this.client.send(new PutObjectCommand({Bucket: this.name, Key: key, Body: body, ContentType: contentType}))).ETag
  }

  async etag(key: string): Promise<string | undefined> {
    const {HeadObjectCommand} = await this.s3()
    try {
      return (await this.client.send(new HeadObjectCommand({Bucket: this.name, Key: key}))).ETag
    } catch (error) {
      if (MISSING.has(errorCode(error)) || (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404)
        return undefined
      throw error
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putText(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json')
  }

  /**
   * Writes only when the key does not exist yet (If-None-Match: *): false when it
   * did. Two deliveries of one S3 event race here, and only one wins.
   */
  async putJsonOnce(key: string, value: unknown): Promise<boolean> {
    const {PutObjectCommand} = await this.s3()
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      )
      return true
    } catch (error) {
      const code = errorCode(error)
      if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') return false
      throw error
    }
  }

  async delete(key: string): Promise<void> {
    const {DeleteObjectCommand} = await this.s3()
    await this.client.send(new DeleteObjectCommand({Bucket: this.name, Key: key}))
  }

  async list(prefix: string, max = Number.POSITIVE_INFINITY): Promise<string[]> {
    const {ListObjectsV2Command} = await this.s3()
    const keys: string[] = []
    let token: string | undefined
    do {
      const out = await this.client.send(new ListObjectsV2Command({Bucket: this.name, Prefix: prefix, ContinuationToken: token}))
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
      token = out.IsTruncated ? out.NextContinuationToken : undefined
    } while (token && keys.length < max)
    return keys
  }
}
