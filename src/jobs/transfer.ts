/**
 * Moving a lab's files in and out of the bucket: uploads in parallel parts with
 * one progress line, skipped when the same content is already there (by ETag:
 * the MD5 of a single-part object, the MD5 of the parts' MD5s for a multipart
 * one), aborted rather than left half-written when interrupted; downloads
 * verified against size and ETag, and skipped when already complete.
 */
import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {type FileHandle, mkdir, open, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'
import {pipeline as pipe} from 'node:stream/promises'
import {crc32} from 'node:zlib'
import type {PutObjectCommand, S3Client, UploadPartCommand, UploadPartCommandOutput} from '@aws-sdk/client-s3'
import {NcapError} from '../errors.js'

export const MiB = 1024 * 1024
/** S3's minimum part size is 5 MiB and its maximum part count 10,000. */
export function partSizeFor(size: number): number {
  return Math.max(8 * MiB, Math.ceil(size / 10_000 / MiB) * MiB)
}

/** The ETag S3 gives an object uploaded in parts of `partSize` (or in one piece when it fits in one). */
export async function localEtag(file: string, partSize: number | undefined): Promise<string> {
  const {size} = await stat(file)
  if (partSize === undefined || size <= partSize) {
    const md5 = createHash('md5')
    await pipe(createReadStream(file), md5)
    return `"${md5.digest('hex')}"`
  }
  const digests: Buffer[] = []
  let current = createHash('md5')
  let inPart = 0
  for await (const chunk of createReadStream(file, {highWaterMark: MiB}) as AsyncIterable<Buffer>) {
    let offset = 0
    while (offset < chunk.length) {
      const take = Math.min(partSize - inPart, chunk.length - offset)
      current.update(chunk.subarray(offset, offset + take))
      inPart += take
      offset += take
      if (inPart === partSize) {
        digests.push(current.digest())
        current = createHash('md5')
        inPart = 0
      }
    }
  }
  if (inPart > 0) digests.push(current.digest())
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`
}

interface Head {
  size: number
  etag: string
}

async function head(s3: S3Client, bucket: string, key: string, partNumber?: number): Promise<Head | undefined> {
  const {HeadObjectCommand} = await import('@aws-sdk/client-s3')
  try {
    const answer = await s3.send(new HeadObjectCommand({Bucket: bucket, Key: key, ...(partNumber ? {PartNumber: partNumber} : {})}))
    return {size: answer.ContentLength ?? 0, etag: answer.ETag ?? ''}
  } catch (error) {
    const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode
    if (status === 404) return undefined
    throw error
  }
}

/** Size and ETag from a listing: a lab's users may list their inputs without being allowed to read them back. */
async function listed(s3: S3Client, bucket: string, key: string): Promise<Head | undefined> {
  const {ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  const answer = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: key, MaxKeys: 1}))
  const object = answer.Contents?.find((o) => o.Key === key)
  return object ? {size: object.Size ?? 0, etag: object.ETag ?? ''} : undefined
}

/** Whether the object at key holds exactly the file's bytes (size, then ETag). */
export async function sameContent(s3: S3Client, bucket: string, key: string, file: string): Promise<boolean> {
  const remote = await listed(s3, bucket, key)
  if (!remote) return false
  const {size} = await stat(file)
  if (remote.size !== size) return false
  const parts = /-(\d+)"?$/.exec(remote.etag)
  if (!parts) return remote.etag === (await localEtag(file, undefined))
  // A multipart object: its first part's size tells how it was cut; without read access, assume ncap's own part size.
  const first = await head(s3, bucket, key, 1).catch(() => undefined)
  return remote.etag === (await localEtag(file, first?.size ?? partSizeFor(size)))
}

/** Called as bytes move: the file, bytes done, bytes in all. */
export type Progress = (file: string, loaded: number, total: number) => void

/** Parts in flight at once: enough to keep the connection busy while each part's response (its fsync) is awaited. */
export const UPLOAD_CONCURRENCY = 4

/** S3's CRC32 of some bytes, base64 as the x-amz-checksum-crc32 header carries it. */
function crc32Base64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(bytes) >>> 0)
  return out.toString('base64')
}

/** Reads exactly `length` bytes at `position` into `into` (a file that shrank while being sent is an error). */
async function readExactly(handle: FileHandle, into: Buffer, length: number, position: number, file: string): Promise<Buffer> {
  let at = 0
  while (at < length) {
    const {bytesRead} = await handle.read(into, at, length - at, position + at)
    if (bytesRead === 0)
      throw new NcapError(`${file} changed while it was being uploaded (it ends at ${position + at} bytes)`, {code: 'FileChanged'})
    at += bytesRead
  }
  return into.subarray(0, length)
}

/**
 * The body goes as it is and unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD), its integrity
 * carried by the CRC32 computed here and checked by S3: otherwise the SDK would hash every
 * byte again with SHA-256 to sign it, which costs more than the CRC and S3's own MD5 together.
 * The body stays a buffer (not a stream), so the SDK can still retry the request.
 */
function unsignedPayload<T extends PutObjectCommand | UploadPartCommand>(command: T): T {
  const stack = command.middlewareStack as PutObjectCommand['middlewareStack']
  stack.add(
    (next) => async (args) => {
      const request = args.request as {headers?: Record<string, string>}
      if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
      return next(args)
    },
    {step: 'build', name: 'ncapUnsignedPayload'},
  )
  return command
}

/**
 * Uploads a file: one PUT when it fits in a part, else a multipart upload of UPLOAD_CONCURRENCY
 * parts at a time, each read into one of a few reused buffers and sent with its CRC32 (the
 * object then has S3's composite CRC32, as the SDK's own Upload gives it). On any failure (or an
 * abort signal) the upload is aborted, never left half.
 */
export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
  options: {progress?: Progress; signal?: AbortSignal; contentType?: string} = {},
): Promise<void> {
  const {PutObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand} =
    await import('@aws-sdk/client-s3')
  const handle = await open(file, 'r')
  try {
    const {size} = await handle.stat()
    const partSize = partSizeFor(size)
    const signal = options.signal
    const contentType = options.contentType ? {ContentType: options.contentType} : {}
    options.progress?.(file, 0, size)
    if (size <= partSize) {
      const body = await readExactly(handle, Buffer.allocUnsafe(size), size, 0, file)
      const put = new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: size,
        ChecksumCRC32: crc32Base64(body),
        ...contentType,
      })
      await s3.send(unsignedPayload(put), {abortSignal: signal})
      options.progress?.(file, size, size)
      return
    }
    signal?.throwIfAborted()
    const created = await s3.send(
      new CreateMultipartUploadCommand({Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32', ...contentType}),
      {
        abortSignal: signal,
      },
    )
    const uploadId = created.UploadId as string
    const count = Math.ceil(size / partSize)
    const parts: {PartNumber: number; ETag: string; ChecksumCRC32: string}[] = []
    // Each sender reads its next part into its own buffer, which is free again once the part is acknowledged.
    const stop = new AbortController()
    const abortAll = () => stop.abort(signal?.reason)
    signal?.addEventListener('abort', abortAll, {once: true})
    let next = 0
    let loaded = 0
    const sender = async () => {
      let buffer: Buffer | undefined
      while (next < count && !stop.signal.aborted) {
        const index = next++
        const position = index * partSize
        const length = Math.min(partSize, size - position)
        buffer ??= Buffer.allocUnsafeSlow(partSize)
        const body = await readExactly(handle, buffer, length, position, file)
        const command = new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: index + 1,
          Body: body,
          ContentLength: length,
          ChecksumCRC32: crc32Base64(body),
        })
        let answer: UploadPartCommandOutput
        try {
          answer = await s3.send(unsignedPayload(command), {abortSignal: stop.signal})
        } catch (error) {
          // The request may still hold the buffer: never reuse it.
          buffer = undefined
          throw error
        }
        if (!answer.ETag)
          throw new NcapError(`part ${index + 1} of s3://${bucket}/${key} came back without an ETag`, {code: 'UploadFailed'})
        parts[index] = {
          PartNumber: index + 1,
          ETag: answer.ETag,
          ChecksumCRC32: answer.ChecksumCRC32 ?? (command.input.ChecksumCRC32 as string),
        }
        loaded += length
        options.progress?.(file, loaded, size)
      }
    }
    try {
      const senders = Array.from({length: Math.min(UPLOAD_CONCURRENCY, count)}, () =>
        sender().catch((error) => {
          stop.abort(error)
          throw error
        }),
      )
      const settled = await Promise.allSettled(senders)
      const failed = settled.find((one): one is PromiseRejectedResult => one.status === 'rejected')
      // The first failure is the cause (it aborted the other senders): report it, not another sender's AbortError.
      if (failed) throw signal?.aborted ? (signal.reason ?? failed.reason) : (stop.signal.reason ?? failed.reason)
      signal?.throwIfAborted()
      await s3.send(new CompleteMultipartUploadCommand({Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: {Parts: parts}}))
    } catch (error) {
      await s3.send(new AbortMultipartUploadCommand({Bucket: bucket, Key: key, UploadId: uploadId})).catch(() => undefined)
      throw error
    } finally {
      signal?.removeEventListener('abort', abortAll)
    }
  } finally {
    await handle.close()
  }
}

/** Downloads an object to a file through a temporary file beside it, verified against the object's size and ETag. */
export async function downloadVerified(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
  options: {progress?: Progress} = {},
): Promise<{bytes: number; skipped: boolean}> {
  const remote = await head(s3, bucket, key)
  if (!remote) throw new NcapError(`s3://${bucket}/${key} is gone`, {code: 'NoSuchKey'})
  const present = await stat(file).catch(() => undefined)
  if (present?.size === remote.size && (await sameContent(s3, bucket, key, file))) return {bytes: remote.size, skipped: true}
  const {GetObjectCommand} = await import('@aws-sdk/client-s3')
  await mkdir(dirname(file), {recursive: true})
  const temp = `${file}.ncap-partial`
  const answer = await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))
  let loaded = 0
  const body = answer.Body as NodeJS.ReadableStream
  body.on('data', (chunk: Buffer) => {
    loaded += chunk.length
    options.progress?.(file, loaded, remote.size)
  })
  try {
    await pipe(body, createWriteStream(temp))
    const written = (await stat(temp)).size
    if (written !== remote.size)
      throw new NcapError(`s3://${bucket}/${key}: got ${written} bytes, expected ${remote.size}`, {code: 'DownloadIncomplete'})
    const parts = /-(\d+)"?$/.exec(remote.etag)
    const partSize = parts ? (await head(s3, bucket, key, 1))?.size : undefined
    const etag = await localEtag(temp, partSize)
    if (etag !== remote.etag)
      throw new NcapError(`s3://${bucket}/${key}: the download's ETag ${etag} is not the object's ${remote.etag}`, {
        code: 'DownloadCorrupt',
      })
    await rename(temp, file)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  return {bytes: remote.size, skipped: false}
}

/** One line of transfer progress: name, MiB done of all, MiB/s. */
export function progressLine(name: string, loaded: number, total: number, startedMs: number): string {
  const seconds = Math.max(0.001, (Date.now() - startedMs) / 1000)
  const pct = total > 0 ? Math.floor((loaded / total) * 100) : 100
  return `${name}  ${(loaded / MiB).toFixed(1)}/${(total / MiB).toFixed(1)} MiB  ${pct}%  ${(loaded / MiB / seconds).toFixed(1)} MiB/s`
}
