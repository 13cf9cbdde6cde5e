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
import {
  compareKeys,
  insertKey,
  type ListPage,
  type ListRequest,
  listKeys,
  listVersions,
  removeKey,
  type VersionPage,
  type VersionRequest,
} from './listing.js'
import type {NotificationConfig, ObjectChange} from './notifications.js'
import {type Conditions, evaluateConditions, parseRange, validateBucketName, validateKey} from './rules.js'
import {
  type BucketRecord,
  isVersionId,
  newVersionId,
  type ObjectRecord,
  ObjectStore,
  type PartRecord,
  type Segment,
  type Tag,
  type UploadRecord,
} from './store.js'

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
  /** Every version of every key (delete markers too), newest first: kept once the bucket has been versioned. */
  versions?: Map<string, ObjectRecord[]>
  /** The keys of `versions` in listing order. */
  versionKeys?: string[]
  /** The last commit's sequence number (versions order by it). */
  seq = 0
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
  tags?: Tag[]
  /** Object Lock settings from the request's headers. */
  extra?: Pick<ObjectRecord, 'retention' | 'legalHold' | 'acl'>
}

export interface DeleteOutcome {
  versionId?: string
  deleteMarker?: boolean
}

/** Whether a caller may remove or shorten a GOVERNANCE lock: the bypass header and s3:BypassGovernanceRetention. */
export type BypassCheck = () => boolean

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
  /** Told of every object created or removed once its answer is sent (the service's notifier); no HTTP here. */
  notify?: (ctx: import('../../types.js').RequestContext, bucket: string, change: ObjectChange) => void
  /** Checks a notification configuration's destinations (Lambda's resource policies); set by the service. */
  validateNotification?: (bucket: BucketRecord, config: NotificationConfig) => Promise<void>

  private constructor(
    readonly store: ObjectStore,
    /** The emulator's clock (retention dates are judged on it). */
    readonly now: () => number,
  ) {}

  static async open(stateDir: string, now: () => number = Date.now): Promise<S3State> {
    const state = new S3State(new ObjectStore(stateDir), now)
    for (const loaded of await state.store.load()) {
      const bucket = new Bucket(loaded.record)
      const versioned =
        loaded.record.versioning !== undefined || loaded.objects.some((object) => object.versionId !== undefined || object.deleteMarker)
      if (!versioned) for (const object of loaded.objects) bucket.objects.set(object.key, object)
      else {
        const versions = new Map<string, ObjectRecord[]>()
        for (const object of loaded.objects) {
          const list = versions.get(object.key)
          if (list) list.push(object)
          else versions.set(object.key, [object])
          if ((object.seq ?? 0) > bucket.seq) bucket.seq = object.seq ?? 0
        }
        for (const [key, list] of versions) {
          list.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0))
          const head = list[0] as ObjectRecord
          if (!head.deleteMarker) bucket.objects.set(key, head)
        }
        bucket.versions = versions
        bucket.versionKeys = [...versions.keys()].sort(compareKeys)
      }
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
  async createBucket(name: string, region: string, options: Partial<BucketRecord> = {}): Promise<boolean> {
    validateBucketName(name)
    if (this.buckets.has(name)) return false
    const record: BucketRecord = {name, region, creationDate: new Date().toISOString(), ...options}
    const bucket = new Bucket(record)
    if (record.versioning) this.keepVersions(bucket)
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
    if (bucket.objects.size > 0 || (bucket.versions?.size ?? 0) > 0) throw errors.bucketNotEmpty(name, bucket.versions !== undefined)
    this.buckets.delete(name)
    await this.store.removeBucket(name)
  }

  async updateBucket(name: string, change: (record: BucketRecord) => BucketRecord): Promise<void> {
    const bucket = this.bucket(name)
    const record = change(structuredClone(bucket.record))
    await this.store.writeBucket(record)
    bucket.record = record
  }

  /** PutBucketVersioning: from then on the bucket keeps every version. */
  async setVersioning(name: string, status: 'Enabled' | 'Suspended', mfaDelete?: 'Enabled' | 'Disabled'): Promise<void> {
    const bucket = this.bucket(name)
    if (status === 'Suspended' && bucket.record.objectLock)
      throw errors.invalidBucketState('An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.')
    await this.updateBucket(name, (record) => ({...record, versioning: status, ...(mfaDelete ? {mfaDelete} : {})}))
    this.keepVersions(bucket)
  }

  /** Starts the version index of a bucket from its current (null) versions. */
  keepVersions(bucket: Bucket): void {
    if (bucket.versions) return
    bucket.versions = new Map([...bucket.objects].map(([key, record]) => [key, [record]]))
    bucket.versionKeys = [...bucket.keys]
  }

  listObjectVersions(bucketName: string, request: VersionRequest): VersionPage {
    const bucket = this.bucket(bucketName)
    if (bucket.versions) return listVersions(bucket.versionKeys as string[], (key) => bucket.versions?.get(key) ?? [], request)
    return listVersions(bucket.keys, (key) => [bucket.objects.get(key) as ObjectRecord], request)
  }

  /** One version of a key ('null' names the null version); NoSuchVersion, or InvalidArgument for an id S3 could not have made. */
  version(bucket: Bucket, key: string, versionId: string): ObjectRecord {
    const found = bucket.versions
      ? bucket.versions.get(key)?.find((record) => (record.versionId ?? 'null') === versionId)
      : versionId === 'null'
        ? bucket.objects.get(key)
        : undefined
    if (found) return found
    if (!isVersionId(versionId)) throw errors.invalidVersionId(versionId)
    if (versionId === 'null' || !bucket.versions?.has(key)) throw errors.noSuchKey(key)
    throw errors.noSuchVersion(key, versionId)
  }

  /** Rewrites one version's record in place (tags, retention, legal hold): same data, same version id. */
  async updateVersion(
    bucketName: string,
    key: string,
    versionId: string | undefined,
    change: (record: ObjectRecord) => ObjectRecord,
  ): Promise<ObjectRecord> {
    const bucket = this.bucket(bucketName)
    return this.locked(bucket, key, async () => {
      const current = versionId === undefined ? this.latest(bucket, key) : this.version(bucket, key, versionId)
      if (current.deleteMarker) throw errors.methodNotAllowed('PUT', 'DeleteMarker')
      const record = change(structuredClone(current))
      await this.store.commitObject(bucket.name, record)
      Object.assign(current, record)
      for (const name of Object.keys(current) as (keyof ObjectRecord)[]) if (!(name in record)) delete current[name]
      return current
    })
  }

  /** The current version of a key: NoSuchKey (with the delete marker's headers when it is one). */
  latest(bucket: Bucket, key: string): ObjectRecord {
    const record = bucket.objects.get(key)
    if (record) return record
    const head = bucket.versions?.get(key)?.[0]
    if (head?.deleteMarker)
      throw errors.withHeaders(errors.noSuchKey(key), {'x-amz-delete-marker': 'true', 'x-amz-version-id': head.versionId ?? 'null'})
    throw errors.noSuchKey(key)
  }

  /** Runs `work` after every earlier write to the same key: writes to one key commit one at a time. */
  async locked<T>(bucket: Bucket, key: string, work: () => Promise<T>): Promise<T> {
    const previous = bucket.locks.get(key) ?? Promise.resolve()
    const run = previous.then(work)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    bucket.locks.set(key, tail)
    try {
      return await run
    } finally {
      if (bucket.locks.get(key) === tail) bucket.locks.delete(key)
    }
  }

  /** Puts a committed version in memory: the newest of its key; a null version replaces the previous null version. */
  private place(bucket: Bucket, record: ObjectRecord): void {
    const key = record.key
    if (!bucket.versions) {
      const replaced = bucket.objects.get(key)
      bucket.objects.set(key, record)
      if (replaced) this.discard(bucket.name, replaced.segments)
      else insertKey(bucket.keys, key)
      return
    }
    let list = bucket.versions.get(key)
    if (!list) {
      list = []
      bucket.versions.set(key, list)
      insertKey(bucket.versionKeys as string[], key)
    }
    if (record.versionId === undefined) {
      const index = list.findIndex((version) => version.versionId === undefined)
      if (index >= 0) this.discard(bucket.name, (list.splice(index, 1)[0] as ObjectRecord).segments)
    }
    list.unshift(record)
    if (record.deleteMarker) {
      if (bucket.objects.delete(key)) removeKey(bucket.keys, key)
    } else {
      if (!bucket.objects.has(key)) insertKey(bucket.keys, key)
      bucket.objects.set(key, record)
    }
  }

  /** Refuses to remove a version under a legal hold or an unexpired retention (GOVERNANCE yields to a permitted bypass). */
  checkLock(record: ObjectRecord, bypass?: BypassCheck): void {
    if (record.legalHold === 'ON') throw errors.lockedObject()
    const retention = record.retention
    if (!retention || Date.parse(retention.until) <= this.now()) return
    if (retention.mode === 'GOVERNANCE' && bypass?.()) return
    throw errors.lockedObject()
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
      if (input.tags) record.tags = input.tags
      if (input.extra) Object.assign(record, input.extra)
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
      if (bucket.versions) {
        // Versioned (or once versioned): Enabled mints a version id, Suspended writes the null version.
        if (bucket.record.versioning === 'Enabled') record.versionId = newVersionId()
        else delete record.versionId
        record.seq = ++bucket.seq
        const rule = bucket.record.objectLock?.rule
        if (rule && !record.retention && !record.deleteMarker) {
          const until = new Date(this.now())
          if (rule.days) until.setUTCDate(until.getUTCDate() + rule.days)
          if (rule.years) until.setUTCFullYear(until.getUTCFullYear() + rule.years)
          record.retention = {mode: rule.mode, until: until.toISOString()}
        }
        if (record.versionId === undefined) {
          const replaced = bucket.versions.get(record.key)?.find((version) => version.versionId === undefined)
          if (replaced) this.checkLock(replaced)
        }
      }
      await this.store.commitObject(bucket.name, record, dataDurable)
      this.place(bucket, record)
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
  readObject(bucketName: string, key: string, conditions: Conditions, range?: string, versionId?: string): ObjectRead {
    const bucket = this.bucket(bucketName)
    let record = versionId === undefined ? bucket.objects.get(key) : undefined
    if (!record) {
      record = versionId === undefined ? this.latest(bucket, key) : this.version(bucket, key, versionId)
      if (record.deleteMarker)
        throw errors.withHeaders(errors.methodNotAllowed('GET', 'DeleteMarker'), {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': versionId ?? 'null',
          'Last-Modified': new Date(record.lastModified).toUTCString(),
        })
    }
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

  /**
   * DeleteObject. Without a version id: an unversioned bucket loses the object (a missing key
   * succeeds, as on S3); a versioned one gains a delete marker (Suspended: the null version becomes
   * one). With a version id, that version goes for good, unless Object Lock protects it.
   */
  async deleteObject(bucketName: string, key: string, versionId?: string, bypass?: BypassCheck): Promise<DeleteOutcome> {
    const bucket = this.bucket(bucketName)
    return this.locked(bucket, key, async () => {
      if (this.buckets.get(bucketName) !== bucket) throw errors.noSuchBucket(bucketName)
      if (versionId !== undefined) return this.removeVersion(bucket, key, versionId, bypass)
      if (!bucket.versions) {
        const record = bucket.objects.get(key)
        if (!record) return {}
        await this.store.removeObject(bucketName, key)
        bucket.objects.delete(key)
        removeKey(bucket.keys, key)
        this.discard(bucketName, record.segments)
        return {}
      }
      const marker: ObjectRecord = {
        key,
        segments: [],
        size: 0,
        etag: '',
        lastModified: new Date(this.now()).toISOString(),
        contentType: '',
        metadata: {},
        headers: {},
        checksums: {},
        deleteMarker: true,
        seq: ++bucket.seq,
      }
      if (bucket.record.versioning === 'Enabled') marker.versionId = newVersionId()
      else {
        const replaced = bucket.versions.get(key)?.find((version) => version.versionId === undefined)
        if (replaced) this.checkLock(replaced, bypass)
      }
      await this.store.commitObject(bucketName, marker)
      this.place(bucket, marker)
      return {deleteMarker: true, versionId: marker.versionId ?? 'null'}
    })
  }

  private async removeVersion(bucket: Bucket, key: string, versionId: string, bypass?: BypassCheck): Promise<DeleteOutcome> {
    if (!isVersionId(versionId)) throw errors.invalidVersionId(versionId)
    if (!bucket.versions) {
      const record = versionId === 'null' ? bucket.objects.get(key) : undefined
      if (!record) return {versionId}
      this.checkLock(record, bypass)
      await this.store.removeObject(bucket.name, key)
      bucket.objects.delete(key)
      removeKey(bucket.keys, key)
      this.discard(bucket.name, record.segments)
      return {versionId}
    }
    const list = bucket.versions.get(key)
    const index = list ? list.findIndex((version) => (version.versionId ?? 'null') === versionId) : -1
    if (!list || index < 0) return {versionId}
    const record = list[index] as ObjectRecord
    this.checkLock(record, bypass)
    await this.store.removeObject(bucket.name, key, record.versionId)
    list.splice(index, 1)
    if (index === 0) {
      const head = list[0]
      if (head && !head.deleteMarker) {
        if (!bucket.objects.has(key)) insertKey(bucket.keys, key)
        bucket.objects.set(key, head)
      } else if (bucket.objects.delete(key)) removeKey(bucket.keys, key)
    }
    if (list.length === 0) {
      bucket.versions.delete(key)
      removeKey(bucket.versionKeys as string[], key)
    }
    this.discard(bucket.name, record.segments)
    return record.deleteMarker ? {versionId, deleteMarker: true} : {versionId}
  }

  /** CopyObject: the copy shares the source's immutable data files through hard links. */
  async copyObject(
    source: {bucket: string; key: string; conditions: Conditions; versionId?: string},
    target: {bucket: string; key: string},
    replace: ObjectAttributes | undefined,
    checksumAlgorithm?: ChecksumAlgorithm,
    tags?: ObjectRecord['tags'],
    lock?: Pick<ObjectRecord, 'retention' | 'legalHold'>,
  ): Promise<{record: ObjectRecord; sourceVersionId?: string}> {
    const sourceBucket = this.bucket(source.bucket)
    const sourceRecord =
      source.versionId === undefined ? this.latest(sourceBucket, source.key) : this.version(sourceBucket, source.key, source.versionId)
    if (sourceRecord.deleteMarker)
      throw errors.invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.')
    if (evaluateConditions(sourceRecord, source.conditions).notModified) throw errors.preconditionFailed('x-amz-copy-source-If-None-Match')
    const targetBucket = this.bucket(target.bucket)
    validateKey(target.key)
    if (source.bucket === target.bucket && source.key === target.key && !replace && !checksumAlgorithm && source.versionId === undefined)
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
      const {versionId: _version, seq: _seq, retention: _retention, legalHold: _hold, tags: sourceTags, ...kept} = sourceRecord
      const record: ObjectRecord = {
        ...kept,
        key: target.key,
        segments,
        lastModified: new Date().toISOString(),
        checksums,
        ...(tags ? (tags.length > 0 ? {tags} : {}) : sourceTags ? {tags: sourceTags} : {}),
        ...lock,
        ...(replace
          ? {contentType: replace.contentType ?? 'binary/octet-stream', metadata: replace.metadata, headers: replace.headers}
          : {}),
      }
      await this.commit(targetBucket, record)
      const sourceVersionId = sourceRecord.versionId ?? (sourceBucket.versions ? 'null' : undefined)
      return sourceVersionId === undefined ? {record} : {record, sourceVersionId}
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
