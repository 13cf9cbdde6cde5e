/**
 * S3's behaviour — buckets, objects, listing, conditions, ranges — with no
 * HTTP in sight (handler.ts does the wire). Every change is committed to the
 * store before it becomes visible in memory, and writes to one key are
 * committed one at a time so the last commit wins, whole.
 */
import {createReadStream} from 'node:fs'
import {Readable} from 'node:stream'
import {SmallObjectCache} from './cache.js'
import {type BodyDigests, BodyHasher, type ChecksumAlgorithm} from './checksums.js'
import * as errors from './errors.js'
import {compareKeys, insertKey, type ListPage, type ListRequest, listKeys, removeKey} from './listing.js'
import {type Conditions, evaluateConditions, parseRange, validateBucketName, validateKey} from './rules.js'
import {type BucketRecord, type ObjectRecord, ObjectStore, type PartRecord, type Segment, type UploadRecord} from './store.js'

export interface Upload {
  record: UploadRecord
  parts: Map<number, PartRecord>
}

export class Bucket {
  readonly objects = new Map<string, ObjectRecord>()
  /** Keys in S3's listing order. */
  readonly keys: string[] = []
  readonly uploads = new Map<string, Upload>()
  /** Per-key tail of the commit queue. */
  readonly locks = new Map<string, Promise<void>>()
  constructor(public record: BucketRecord) {}
  get name() {
    return this.record.name
  }
}

export interface ObjectAttributes {
  contentType?: string
  metadata: Record<string, string>
  headers: Record<string, string>
}

export interface PutObjectInput extends ObjectAttributes {
  body: AsyncIterable<Buffer | string>
  checksumAlgorithms: ChecksumAlgorithm[]
  /** Checks the client's digests once the body has ended (Content-MD5, checksums, trailers); throws to refuse. */
  verify?: (digests: BodyDigests) => void
  /** If-None-Match: * — refuse if the key exists. */
  ifNoneMatch?: string
}

export interface ObjectRead {
  record: ObjectRecord
  /** Inclusive byte range, when a satisfiable Range was asked for. */
  range?: {start: number; end: number}
  notModified: boolean
}

export {type Conditions, etagMatches, evaluateConditions, parseRange, validateBucketName, validateKey} from './rules.js'

/** Read buffer for object bodies: large reads for big objects; a small object's buffer is only its size. */
const READ_BUFFER = 1024 * 1024

export class S3State {
  readonly buckets = new Map<string, Bucket>()
  /** Readers per data file: a replaced object's files are unlinked once the last reader is done. */
  private readonly readers = new Map<string, number>()
  private readonly doomed = new Set<string>()
  /** Small objects' bytes by data file path, so most small GETs skip the disk. */
  readonly cache = new SmallObjectCache()

  private constructor(readonly store: ObjectStore) {}

  static async open(stateDir: string): Promise<S3State> {
    const state = new S3State(new ObjectStore(stateDir))
    for (const loaded of await state.store.load()) {
      const bucket = new Bucket(loaded.record)
      for (const object of loaded.objects) bucket.objects.set(object.key, object)
      bucket.keys.push(...bucket.objects.keys())
      bucket.keys.sort(compareKeys)
      for (const upload of loaded.uploads)
        bucket.uploads.set(upload.record.uploadId, {
          record: upload.record,
          parts: new Map(upload.parts.map((part) => [part.partNumber, part])),
        })
      state.buckets.set(bucket.name, bucket)
    }
    return state
  }

  bucket(name: string): Bucket {
    const bucket = this.buckets.get(name)
    if (!bucket) throw errors.noSuchBucket(name)
    return bucket
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()].map((bucket) => bucket.record).sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  /** Returns false when the caller already owned the bucket (us-east-1 answers 200 then, other regions 409). */
  async createBucket(name: string, region: string): Promise<boolean> {
    validateBucketName(name)
    if (this.buckets.has(name)) return false
    const record: BucketRecord = {name, region, creationDate: new Date().toISOString()}
    const bucket = new Bucket(record)
    this.buckets.set(name, bucket)
    try {
      await this.store.writeBucket(record)
    } catch (error) {
      this.buckets.delete(name)
      throw error
    }
    return true
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name)
    if (bucket.objects.size > 0) throw errors.bucketNotEmpty(name)
    this.buckets.delete(name)
    await this.store.removeBucket(name)
  }

  async updateBucket(name: string, change: (record: BucketRecord) => BucketRecord): Promise<void> {
    const bucket = this.bucket(name)
    const record = change(structuredClone(bucket.record))
    await this.store.writeBucket(record)
    bucket.record = record
  }

  list(bucketName: string, request: ListRequest): ListPage & {records: ObjectRecord[]} {
    const bucket = this.bucket(bucketName)
    const page = listKeys(bucket.keys, request)
    return {...page, records: page.keys.map((key) => bucket.objects.get(key) as ObjectRecord)}
  }

  async putObject(bucketName: string, key: string, input: PutObjectInput): Promise<ObjectRecord> {
    const bucket = this.bucket(bucketName)
    validateKey(key)
    if (input.ifNoneMatch !== undefined && bucket.objects.has(key)) throw errors.preconditionFailed('If-None-Match')
    const hasher = new BodyHasher(input.checksumAlgorithms)
    const {file, durable, bytes} = await this.store.streamData(
      this.store.objectsDir(bucketName),
      '.data',
      input.body,
      hasher,
      '',
      this.cache.maxObjectBytes,
    )
    const path = this.store.dataPath(bucketName, file)
    try {
      const digests = hasher.finish()
      input.verify?.(digests)
      const record: ObjectRecord = {
        key,
        segments: [{file, size: digests.size}],
        size: digests.size,
        etag: digests.md5.toString('hex'),
        lastModified: new Date().toISOString(),
        contentType: input.contentType ?? 'binary/octet-stream',
        metadata: input.metadata,
        headers: input.headers,
        checksums: digests.checksums,
      }
      if (Object.keys(digests.checksums).length > 0) record.checksumType = 'FULL_OBJECT'
      await this.commit(
        bucket,
        record,
        () => {
          if (input.ifNoneMatch !== undefined && bucket.objects.has(key)) throw errors.preconditionFailed('If-None-Match')
        },
        durable,
      )
      if (bytes) this.cache.set(path, bytes)
      return record
    } catch (error) {
      await this.store.removeFile(path)
      throw error
    }
  }

  /**
   * Commits a record (the store's rename), then swaps it into memory; the replaced object's data goes.
   * `dataDurable` is the new data file's fsync, awaited before the rename.
   */
  async commit(bucket: Bucket, record: ObjectRecord, precheck?: () => void, dataDurable?: Promise<void>): Promise<void> {
    const previous = bucket.locks.get(record.key) ?? Promise.resolve()
    const run = previous.then(async () => {
      if (this.buckets.get(bucket.name) !== bucket) throw errors.noSuchBucket(bucket.name)
      precheck?.()
      await this.store.commitObject(bucket.name, record, dataDurable)
      const replaced = bucket.objects.get(record.key)
      bucket.objects.set(record.key, record)
      if (replaced) this.discard(bucket.name, replaced.segments)
      else insertKey(bucket.keys, record.key)
    })
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    bucket.locks.set(record.key, tail)
    try {
      await run
    } finally {
      if (bucket.locks.get(record.key) === tail) bucket.locks.delete(record.key)
    }
  }

  /** Looks an object up and applies preconditions and Range; synchronous so openBody in the same tick reads this very version. */
  readObject(bucketName: string, key: string, conditions: Conditions, range?: string): ObjectRead {
    const record = this.bucket(bucketName).objects.get(key)
    if (!record) throw errors.noSuchKey(key)
    const {notModified} = evaluateConditions(record, conditions)
    if (notModified) return {record, notModified}
    const read: ObjectRead = {record, notModified}
    const parsed = parseRange(range, record.size)
    if (parsed) read.range = parsed
    return read
  }

  /** Keeps an object's data files from being unlinked until the returned release is called. */
  pin(bucketName: string, record: ObjectRecord): () => void {
    const paths = record.segments.map((segment) => this.store.dataPath(bucketName, segment.file))
    for (const path of paths) this.readers.set(path, (this.readers.get(path) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      for (const path of paths) {
        const count = (this.readers.get(path) ?? 1) - 1
        if (count > 0) this.readers.set(path, count)
        else {
          this.readers.delete(path)
          if (this.doomed.delete(path)) this.removeData(path)
        }
      }
    }
  }

  /**
   * A small single-file object's bytes, from the cache or read whole from disk (and cached);
   * undefined for objects to be streamed. Pins synchronously, so call it in the tick of readObject.
   */
  readSmall(bucketName: string, record: ObjectRecord): Promise<Buffer> | undefined {
    const segment = record.segments[0]
    if (record.segments.length !== 1 || !segment || record.size > this.cache.maxObjectBytes) return undefined
    const path = this.store.dataPath(bucketName, segment.file)
    const cached = this.cache.get(path)
    if (cached) return Promise.resolve(cached)
    const release = this.pin(bucketName, record)
    return this.store.readFile(path, record.size).then(
      (bytes) => {
        // Not cached if the object was replaced meanwhile: the file goes with this release, nothing would evict it.
        if (!this.doomed.has(path)) this.cache.set(path, bytes)
        release()
        return bytes
      },
      (error: unknown) => {
        release()
        throw error
      },
    )
  }

  /** Streams bytes start..end (inclusive) of an object across its data files. */
  openBody(bucketName: string, record: ObjectRecord, start = 0, end = record.size - 1): Readable {
    if (end < start) return Readable.from([])
    const release = this.pin(bucketName, record)
    const paths = record.segments.map((segment) => this.store.dataPath(bucketName, segment.file))
    const stream =
      record.segments.length === 1
        ? createReadStream(paths[0] as string, {start, end, highWaterMark: READ_BUFFER})
        : Readable.from(segmentsBetween(paths, record.segments, start, end), {objectMode: false})
    stream.once('close', release)
    stream.once('error', release)
    return stream
  }

  private removeData(path: string): void {
    this.cache.delete(path)
    void this.store.removeFile(path)
  }

  /** Unlinks data files now, or when their last reader finishes. */
  discard(bucketName: string, segments: Segment[]): void {
    for (const segment of segments) {
      const path = this.store.dataPath(bucketName, segment.file)
      if (this.readers.has(path)) this.doomed.add(path)
      else this.removeData(path)
    }
  }

  /** Deleting a missing key succeeds, as on S3. */
  async deleteObject(bucketName: string, key: string): Promise<void> {
    const bucket = this.bucket(bucketName)
    const previous = bucket.locks.get(key) ?? Promise.resolve()
    const run = previous.then(async () => {
      const record = bucket.objects.get(key)
      if (!record) return
      await this.store.removeObject(bucketName, key)
      bucket.objects.delete(key)
      removeKey(bucket.keys, key)
      this.discard(bucketName, record.segments)
    })
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    bucket.locks.set(key, tail)
    try {
      await run
    } finally {
      if (bucket.locks.get(key) === tail) bucket.locks.delete(key)
    }
  }

  /** CopyObject: the copy shares the source's immutable data files through hard links. */
  async copyObject(
    source: {bucket: string; key: string; conditions: Conditions},
    target: {bucket: string; key: string},
    replace: ObjectAttributes | undefined,
    checksumAlgorithm?: ChecksumAlgorithm,
  ): Promise<ObjectRecord> {
    const sourceRecord = this.bucket(source.bucket).objects.get(source.key)
    if (!sourceRecord) throw errors.noSuchKey(source.key)
    if (evaluateConditions(sourceRecord, source.conditions).notModified) throw errors.preconditionFailed('x-amz-copy-source-If-None-Match')
    const targetBucket = this.bucket(target.bucket)
    validateKey(target.key)
    if (source.bucket === target.bucket && source.key === target.key && !replace && !checksumAlgorithm)
      throw errors.invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      )
    // Pin the source while linking, so a concurrent overwrite cannot unlink it first.
    const release = this.pin(source.bucket, sourceRecord)
    const segments: Segment[] = []
    try {
      for (const segment of sourceRecord.segments)
        segments.push({
          file: await this.store.linkData(this.store.dataPath(source.bucket, segment.file), target.bucket),
          size: segment.size,
        })
      let checksums = sourceRecord.checksums
      if (checksumAlgorithm && checksums[checksumAlgorithm] === undefined) {
        const hasher = new BodyHasher([checksumAlgorithm])
        for await (const chunk of this.openBody(source.bucket, sourceRecord)) hasher.update(chunk as Buffer)
        checksums = hasher.finish().checksums
      }
      const record: ObjectRecord = {
        ...sourceRecord,
        key: target.key,
        segments,
        lastModified: new Date().toISOString(),
        checksums,
        ...(replace
          ? {contentType: replace.contentType ?? 'binary/octet-stream', metadata: replace.metadata, headers: replace.headers}
          : {}),
      }
      await this.commit(targetBucket, record)
      return record
    } catch (error) {
      for (const segment of segments) await this.store.removeFile(this.store.dataPath(target.bucket, segment.file))
      throw error
    } finally {
      release()
    }
  }
}

async function* segmentsBetween(paths: string[], segments: Segment[], start: number, end: number): AsyncGenerator<Buffer> {
  let offset = 0
  for (let i = 0; i < segments.length; i++) {
    const size = (segments[i] as Segment).size
    const from = Math.max(start, offset)
    const to = Math.min(end, offset + size - 1)
    if (from <= to) {
      for await (const chunk of createReadStream(paths[i] as string, {start: from - offset, end: to - offset, highWaterMark: READ_BUFFER}))
        yield chunk as Buffer
    }
    offset += size
    if (offset > end) break
  }
}
