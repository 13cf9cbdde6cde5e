/**
 * The Custom::BucketFolders resource: makes each group's folders on Create, does
 * nothing on Update, and empties the bucket on Delete (every version, delete
 * marker and unfinished multipart upload) so CloudFormation can remove it. It
 * always answers CloudFormation (a PUT to the presigned ResponseURL, http or
 * https), on error too, and before its own timeout.
 */
import type {S3Client} from '@aws-sdk/client-s3'
import {errorCode, errorMessage, makeClients} from '../lib/aws.js'

export interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete'
  ResponseURL: string
  StackId: string
  RequestId: string
  LogicalResourceId: string
  PhysicalResourceId?: string
  ResourceType?: string
  ResourceProperties: {BucketName?: string; Groups?: string[]; GroupFolders?: string[]; LogFolder?: string; [k: string]: unknown}
  OldResourceProperties?: Record<string, unknown>
}

interface LambdaContext {
  getRemainingTimeInMillis?: () => number
  logStreamName?: string
}

export interface Answer {
  Status: 'SUCCESS' | 'FAILED'
  Reason: string
  PhysicalResourceId: string
  StackId: string
  RequestId: string
  LogicalResourceId: string
  Data?: Record<string, string>
}

/** Room kept before Lambda's timeout to answer FAILED in time. */
const ANSWER_MARGIN_MS = 5000

export async function handler(event: CustomResourceRequest, context?: LambdaContext): Promise<Answer> {
  const bucket = event.ResourceProperties?.BucketName ?? ''
  const physicalId = event.PhysicalResourceId ?? `${bucket}-bucket-folders`
  const answer = (Status: Answer['Status'], Reason: string, Data?: Record<string, string>): Answer => ({
    Status,
    Reason: Reason.slice(0, 3000),
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    ...(Data ? {Data} : {}),
  })
  let timer: NodeJS.Timeout | undefined
  const remaining = context?.getRemainingTimeInMillis?.()
  const timedOut = new Promise<Answer>((done) => {
    if (remaining === undefined) return
    timer = setTimeout(
      () =>
        done(
          answer(
            'FAILED',
            `${event.RequestType} did not finish before the function's timeout; see its log ${context?.logStreamName ?? ''}`.trim(),
          ),
        ),
      Math.max(0, remaining - ANSWER_MARGIN_MS),
    )
  })
  const work = (async (): Promise<Answer> => {
    try {
      if (!bucket) return answer('FAILED', 'ResourceProperties.BucketName is missing')
      const region = process.env.AWS_REGION ?? process.env.REGION ?? 'us-east-1'
      const s3 = await makeClients(region).s3()
      if (event.RequestType === 'Create') {
        const keys = await createFolders(s3, bucket, event.ResourceProperties)
        return answer('SUCCESS', `created ${keys} folder(s) in ${bucket}`, {Folders: String(keys)})
      }
      if (event.RequestType === 'Update')
        return answer('SUCCESS', 'nothing to do on Update: existing folders and data are left as they are')
      if (event.RequestType === 'Delete') {
        const removed = await emptyBucket(s3, bucket)
        return answer(
          'SUCCESS',
          `emptied ${bucket}: ${removed.versions} object version(s) and delete marker(s), ${removed.uploads} upload(s) aborted`,
        )
      }
      return answer('FAILED', `unknown RequestType ${JSON.stringify((event as {RequestType?: unknown}).RequestType)}`)
    } catch (error) {
      return answer('FAILED', `${event.RequestType} failed: ${errorMessage(error)}`)
    }
  })()
  const result = await Promise.race([work, timedOut])
  if (timer) clearTimeout(timer)
  await respond(event.ResponseURL, result)
  return result
}

async function createFolders(s3: S3Client, bucket: string, props: CustomResourceRequest['ResourceProperties']): Promise<number> {
  const {PutObjectCommand} = await import('@aws-sdk/client-s3')
  const keys: string[] = []
  for (const group of props.Groups ?? []) for (const folder of props.GroupFolders ?? []) keys.push(`${group}/${folder}/`)
  if (props.LogFolder) keys.push(`${props.LogFolder}/`)
  await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({Bucket: bucket, Key, Body: new Uint8Array(0)}))))
  return keys.length
}

/** Deletes every version and delete marker (or every object, where versions are not listed) and aborts every upload. */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<{versions: number; uploads: number}> {
  const sdk = await import('@aws-sdk/client-s3')
  let versions = 0
  let uploads = 0
  try {
    let keyMarker: string | undefined
    let versionMarker: string | undefined
    for (;;) {
      const out = await s3.send(new sdk.ListObjectVersionsCommand({Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker}))
      const objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]
        .filter((v) => v.Key !== undefined)
        .map((v) => ({Key: v.Key!, ...(v.VersionId ? {VersionId: v.VersionId} : {})}))
      versions += await deleteBatch(s3, bucket, objects)
      if (!out.IsTruncated) break
      keyMarker = out.NextKeyMarker
      versionMarker = out.NextVersionIdMarker
    }
  } catch (error) {
    const code = errorCode(error)
    if (code === 'NoSuchBucket') return {versions, uploads}
    if (code !== 'NotImplemented' && code !== 'MethodNotAllowed') throw error
    // A target that does not list versions (no versioning served): every current object.
    let token: string | undefined
    do {
      const out = await s3.send(new sdk.ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}))
      versions += await deleteBatch(
        s3,
        bucket,
        (out.Contents ?? []).filter((o) => o.Key !== undefined).map((o) => ({Key: o.Key!})),
      )
      token = out.IsTruncated ? out.NextContinuationToken : undefined
    } while (token)
  }
  let keyMarker: string | undefined
  let uploadMarker: string | undefined
  for (;;) {
    const out = await s3.send(new sdk.ListMultipartUploadsCommand({Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadMarker}))
    for (const u of out.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue
      await s3.send(new sdk.AbortMultipartUploadCommand({Bucket: bucket, Key: u.Key, UploadId: u.UploadId}))
      uploads++
    }
    if (!out.IsTruncated) break
    keyMarker = out.NextKeyMarker
    uploadMarker = out.NextUploadIdMarker
  }
  return {versions, uploads}
}

async function deleteBatch(s3: S3Client, bucket: string, objects: {Key: string; VersionId?: string}[]): Promise<number> {
  const {DeleteObjectsCommand} = await import('@aws-sdk/client-s3')
  let deleted = 0
  for (let i = 0; i < objects.length; i += 1000) {
    const chunk = objects.slice(i, i + 1000)
    const out = await s3.send(new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: chunk, Quiet: true}}))
    const errors = out.Errors ?? []
    if (errors.length > 0) {
      const first = errors[0]!
      throw new Error(
        `could not delete ${errors.length} object(s) of ${bucket}, first ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim(),
      )
    }
    deleted += chunk.length
  }
  return deleted
}

/** PUT the answer to CloudFormation's presigned URL: no content type, as the URL was signed without one. */
export async function respond(url: string, answer: Answer): Promise<void> {
  const body = Buffer.from(JSON.stringify(answer))
  const target = new URL(url)
  const {request} = target.protocol === 'https:' ? await import('node:https') : await import('node:http')
  await new Promise<void>((done, fail) => {
    const req = request(target, {method: 'PUT', headers: {'content-type': '', 'content-length': body.length}}, (res) => {
      res.resume()
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) fail(new Error(`CloudFormation's response URL answered HTTP ${res.statusCode}`))
        else done()
      })
    })
    req.on('error', fail)
    req.end(body)
  }).catch((error) => {
    // Nothing else can tell CloudFormation; the log says why the stack will wait.
    console.error(`could not answer CloudFormation at ${target.origin}${target.pathname}: ${(error as Error).message}`)
  })
}
