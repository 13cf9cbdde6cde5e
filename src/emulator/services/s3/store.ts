/**
 * The on-disk object store under `${stateDir}/s3/`. Object keys never become
 * paths: an object is a metadata record named by the SHA-256 of its key, which
 * points at immutable data files with unique names. Writing the record (temp,
 * fsync, rename, folder fsync) is the commit point, so a kill at any instant
 * leaves the old object or the new one; data files nothing points to are crash
 * debris and are removed on open.
 *
 *   buckets/<bucket>/bucket.json                  bucket record and configurations
 *   buckets/<bucket>/objects/<sha256(key)>.json   object record
 *   buckets/<bucket>/objects/<unique>.data        object data (one file, or one per multipart part)
 *   buckets/<bucket>/uploads/<uploadId>/upload.json, <n>.json, <n>-<unique>.part
 */
import {createHash, randomBytes} from 'node:crypto'
import {read, write} from 'node:fs'
import {link, mkdir, readdir, readFile, rename, rm, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {
  closeFd,
  fsyncFd,
  isTempName,
  openFd,
  readJsonIfExists,
  syncFolder,
  uniqueId,
  writeAllFd,
  writeJsonAtomic,
} from '../../../store/atomic.js'
import {BodyWorkers, releaseSlab, SLAB_BYTES, takeSlab, WORKER_ALGORITHMS, type WorkerSession} from './body-workers.js'
import type {BodyHasher, Checksums} from './checksums.js'

export interface Segment {
  file: string
  size: number
}

export interface ObjectRecord {
  key: string
  /** Data files in order; a multipart object keeps one per part. */
  segments: Segment[]
  size: number
  /** Hex MD5, or `<md5 of part md5s>-<parts>` for multipart objects; unquoted. */
  etag: string
  lastModified: string
  contentType: string
  metadata: Record<string, string>
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires as sent. */
  headers: Record<string, string>
  checksums: Checksums
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE'
  /** Absent for the null version (unversioned and suspended buckets). */
  versionId?: string
  /** A delete marker: no data, no size. */
  deleteMarker?: true
  /** Commit order within the bucket: versions of a key are newest first by it. */
  seq?: number
  tags?: Tag[]
  /** Object Lock retention of this version. */
  retention?: {mode: 'GOVERNANCE' | 'COMPLIANCE'; until: string}
  legalHold?: 'ON' | 'OFF'
  /** A canned ACL other than private (only where the bucket's ownership allows ACLs). */
  acl?: string
  /** The part boundaries of a multipart object (GET/HEAD ?partNumber). */
  partSizes?: number[]
}

export interface Tag {
  Key: string
  Value: string
}

export interface LockRule {
  mode: 'GOVERNANCE' | 'COMPLIANCE'
  days?: number
  years?: number
}

export interface BucketRecord {
  name: string
  creationDate: string
  region: string
  notification?: unknown
  policy?: string
  publicAccessBlock?: Record<string, boolean>
  encryption?: unknown
  tags?: Tag[]
  /** Absent: never versioned. */
  versioning?: 'Enabled' | 'Suspended'
  mfaDelete?: 'Enabled' | 'Disabled'
  /** Object Lock: enabled at creation (or later on a versioned bucket), with an optional default retention. */
  objectLock?: {enabled: true; rule?: LockRule}
  ownership?: string
  cors?: unknown
  lifecycle?: unknown
  logging?: unknown
  website?: unknown
  acl?: string
}

export interface UploadRecord {
  uploadId: string
  key: string
  initiated: string
  contentType: string
  metadata: Record<string, string>
  headers: Record<string, string>
  checksumAlgorithm?: string
  tags?: Tag[]
  retention?: ObjectRecord['retention']
  legalHold?: ObjectRecord['legalHold']
}

export interface PartRecord {
  partNumber: number
  file: string
  size: number
  etag: string
  lastModified: string
  checksums: Checksums
}

export interface LoadedBucket {
  record: BucketRecord
  objects: ObjectRecord[]
  uploads: {record: UploadRecord; parts: PartRecord[]}[]
}

/** Upload ids are shown to clients: random. Data file names only need to be unique. */
const newId = () => randomBytes(12).toString('hex')
/** Version ids as S3 shows them: 32 URL-safe characters. */
export const newVersionId = () => randomBytes(24).toString('base64url')
export const isVersionId = (value: string) => value === 'null' || /^[A-Za-z0-9_-]{32}$/.test(value)
export const isUploadId = (value: string) => /^[0-9a-f]{24}$/.test(value)

export class ObjectStore {
  readonly root: string

  constructor(stateDir: string) {
    this.root = join(stateDir, 's3')
  }

  private bucketDir(bucket: string) {
    return join(this.root, 'buckets', bucket)
  }

  objectsDir(bucket: string) {
    return join(this.bucketDir(bucket), 'objects')
  }

  uploadDir(bucket: string, uploadId: string) {
    if (!isUploadId(uploadId)) throw new Error(`not an upload id: ${uploadId}`)
    return join(this.bucketDir(bucket), 'uploads', uploadId)
  }

  dataPath(bucket: string, file: string) {
    return join(this.objectsDir(bucket), file)
  }

  newUploadId = newId

  /** Reads every bucket, object and upload back, removing crash debris on the way. */
  async load(): Promise<LoadedBucket[]> {
    const bucketsDir = join(this.root, 'buckets')
    await mkdir(bucketsDir, {recursive: true})
    const loaded: LoadedBucket[] = []
    for (const name of await readdir(bucketsDir)) {
      if (isTempName(name)) {
        await rm(join(bucketsDir, name), {recursive: true, force: true})
        continue
      }
      const record = await readJsonIfExists<BucketRecord>(join(bucketsDir, name, 'bucket.json'))
      if (!record) {
        // Created but never committed.
        await rm(join(bucketsDir, name), {recursive: true, force: true})
        continue
      }
      loaded.push({record, objects: await this.loadObjects(name), uploads: await this.loadUploads(name)})
    }
    return loaded
  }

  private async loadObjects(bucket: string): Promise<ObjectRecord[]> {
    const dir = this.objectsDir(bucket)
    await mkdir(dir, {recursive: true})
    const names = await readdir(dir)
    const present = new Set(names)
    const referenced = new Set<string>()
    const objects: ObjectRecord[] = []
    for (const name of names) {
      if (!name.endsWith('.json') || isTempName(name)) continue
      const record = JSON.parse(await readFile(join(dir, name), 'utf8')) as ObjectRecord
      if (!record.segments.every((segment) => present.has(segment.file))) {
        await unlink(join(dir, name))
        continue
      }
      for (const segment of record.segments) referenced.add(segment.file)
      objects.push(record)
    }
    for (const name of names) {
      if (isTempName(name) || (name.endsWith('.data') && !referenced.has(name))) await rm(join(dir, name), {force: true})
    }
    return objects
  }

  private async loadUploads(bucket: string): Promise<LoadedBucket['uploads']> {
    const dir = join(this.bucketDir(bucket), 'uploads')
    await mkdir(dir, {recursive: true})
    const uploads: LoadedBucket['uploads'] = []
    for (const uploadId of await readdir(dir)) {
      const uploadPath = join(dir, uploadId)
      const record = isUploadId(uploadId) ? await readJsonIfExists<UploadRecord>(join(uploadPath, 'upload.json')) : undefined
      if (!record) {
        await rm(uploadPath, {recursive: true, force: true})
        continue
      }
      const names = await readdir(uploadPath)
      const parts: PartRecord[] = []
      for (const name of names) {
        if (!/^\d+\.json$/.test(name)) continue
        parts.push(JSON.parse(await readFile(join(uploadPath, name), 'utf8')) as PartRecord)
      }
      const referenced = new Set(parts.map((part) => part.file))
      for (const name of names) {
        if (isTempName(name) || (name.endsWith('.part') && !referenced.has(name))) await rm(join(uploadPath, name), {force: true})
      }
      uploads.push({record, parts: parts.sort((a, b) => a.partNumber - b.partNumber)})
    }
    return uploads
  }

  async writeBucket(record: BucketRecord): Promise<void> {
    await mkdir(this.objectsDir(record.name), {recursive: true})
    await mkdir(join(this.bucketDir(record.name), 'uploads'), {recursive: true})
    await writeJsonAtomic(join(this.bucketDir(record.name), 'bucket.json'), record)
  }

  /** Renames the bucket's folder out of sight first, so a kill mid-delete leaves no half bucket. */
  async removeBucket(bucket: string): Promise<void> {
    const doomed = join(this.root, 'buckets', `.tmp-deleted-${bucket}-${newId()}`)
    await rename(this.bucketDir(bucket), doomed)
    await syncFolder(join(this.root, 'buckets'))
    await rm(doomed, {recursive: true, force: true})
  }

  /**
   * Streams a body into a new data file, hashing every byte. The file (a name never used
   * before) is invisible until a record points at it, so no temp name is needed. Returns once every byte is
   * written, with `durable` settling when the file is fsynced and closed: the caller
   * overlaps that fsync with writing the record, and must await `durable` before the
   * record's rename makes the file reachable.
   * Bytes are gathered into batches of about WRITE_BATCH. A body that fills one goes to a
   * worker thread (body-workers.ts), which writes and hashes its batches in order while the
   * next ones arrive, so parts uploaded in parallel are hashed on every core; a smaller body
   * is hashed and written here. Either way a big body costs few syscalls and the socket is
   * never left idle.
   * A body of at most `keepUpTo` bytes is also returned as `bytes` (a copy: request
   * chunks are slices of larger socket buffers that must not be pinned).
   */
  async streamData(
    dir: string,
    suffix: '.data' | '.part',
    body: AsyncIterable<Buffer | string>,
    hasher: BodyHasher,
    prefix = '',
    keepUpTo = 0,
  ): Promise<{file: string; durable: Promise<void>; bytes?: Buffer}> {
    const file = `${prefix}${uniqueId()}${suffix}`
    const path = join(dir, file)
    const fd = await openFd(path, 'wx')
    let writing: Promise<void> = Promise.resolve()
    let flushed = false
    let bytes: Buffer | undefined
    // The worker path: slabs written at their offsets and hashed by a worker, a few in flight.
    let session: WorkerSession | undefined
    let slab: Buffer | undefined
    let filled = 0
    let position = 0
    const inFlight: Promise<void>[] = []
    const sendSlab = async (worker: WorkerSession) => {
      const full = slab as Buffer
      const length = filled
      const at = position
      slab = undefined
      filled = 0
      position += length
      const both = Promise.allSettled([worker.hash(full, length), writeAllAt(fd, full, length, at)]).then(([hashed, written]) => {
        if (hashed.status === 'rejected') throw hashed.reason
        if (written.status === 'rejected') throw written.reason
        releaseSlab(full)
      })
      both.catch(() => undefined)
      inFlight.push(both)
      while (inFlight.length > SLABS_IN_FLIGHT) await inFlight.shift()
    }
    const toWorker = async (worker: WorkerSession, chunk: Buffer) => {
      let at = 0
      while (at < chunk.length) {
        slab ??= takeSlab()
        const copied = chunk.copy(slab, filled, at)
        filled += copied
        at += copied
        if (filled === SLAB_BYTES) await sendSlab(worker)
      }
    }
    try {
      let batch: Buffer[] = []
      let batched = 0
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece
        if (session) {
          hasher.update(chunk)
          await toWorker(session, chunk)
          continue
        }
        batch.push(chunk)
        batched += chunk.length
        if (batched >= WRITE_BATCH) {
          if (!flushed) session = openSession(hasher)
          for (const part of batch) hasher.update(part)
          if (session) {
            for (const part of batch) await toWorker(session, part)
          } else {
            await writing
            writing = writeAllFd(fd, batch)
            // Settled (and rethrown) at the next await of `writing`; never an unhandled rejection meanwhile.
            writing.catch(() => undefined)
          }
          flushed = true
          batch = []
          batched = 0
        }
      }
      if (session) {
        if (filled > 0) await sendSlab(session)
        while (inFlight.length > 0) await inFlight.shift()
        hasher.adopt(await session.finish())
      } else {
        for (const part of batch) hasher.update(part)
        await writing
        if (!flushed && batched <= keepUpTo) {
          bytes = Buffer.allocUnsafeSlow(batched)
          let at = 0
          for (const chunk of batch) at += chunk.copy(bytes, at)
        }
        if (batched > 0) await writeAllFd(fd, batch)
      }
    } catch (error) {
      session?.drop()
      // No write may still be running when the descriptor closes.
      await writing.catch(() => undefined)
      await Promise.allSettled(inFlight)
      await closeFd(fd)
      await rm(path, {force: true})
      throw error
    }
    const durable = fsyncFd(fd).finally(() => closeFd(fd))
    durable.catch(() => undefined)
    return bytes ? {file, durable, bytes} : {file, durable}
  }

  /** Reads a whole (small) data file into memory. */
  async readFile(path: string, size: number): Promise<Buffer> {
    const fd = await openFd(path, 'r')
    try {
      const bytes = Buffer.allocUnsafeSlow(size)
      let at = 0
      while (at < size) {
        const read = await readFd(fd, bytes, at, size - at, at)
        if (read === 0) throw new Error(`${path} ends at ${at} bytes; its record says ${size}`)
        at += read
      }
      return bytes
    } finally {
      await closeFd(fd)
    }
  }

  /** A second name for an immutable data file (copies and completed uploads cost no bytes). */
  async linkData(fromPath: string, bucket: string): Promise<string> {
    const file = `${uniqueId()}.data`
    await link(fromPath, join(this.objectsDir(bucket), file))
    return file
  }

  /** The null version at `<sha256(key)>.json` (as every object of an unversioned bucket), others at `<sha256(key)>~<versionId>.json`. */
  metaPath(bucket: string, key: string, versionId?: string) {
    const hash = createHash('sha256').update(key).digest('hex')
    return join(this.objectsDir(bucket), versionId === undefined ? `${hash}.json` : `${hash}~${versionId}.json`)
  }

  /**
   * The commit point of every object write. `ready` (the data files' fsync) is awaited
   * before the rename, so a record never survives a crash that its data does not.
   */
  async commitObject(bucket: string, record: ObjectRecord, ready?: Promise<void>): Promise<void> {
    await writeJsonAtomic(this.metaPath(bucket, record.key, record.versionId), record, {createFolder: false, ...(ready ? {ready} : {})})
  }

  async removeObject(bucket: string, key: string, versionId?: string): Promise<void> {
    await rm(this.metaPath(bucket, key, versionId), {force: true})
    await syncFolder(this.objectsDir(bucket))
  }

  async removeFile(path: string): Promise<void> {
    await rm(path, {force: true})
  }

  async writeUpload(bucket: string, record: UploadRecord): Promise<void> {
    await writeJsonAtomic(join(this.uploadDir(bucket, record.uploadId), 'upload.json'), record)
  }

  /** `ready` is the part file's fsync, awaited before the part record is renamed into place. */
  async writePart(bucket: string, uploadId: string, part: PartRecord, ready?: Promise<void>): Promise<void> {
    await writeJsonAtomic(join(this.uploadDir(bucket, uploadId), `${part.partNumber}.json`), part, ready ? {ready} : {})
  }

  async removeUpload(bucket: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(bucket, uploadId)
    // upload.json goes first so a kill mid-removal never resurrects a half upload.
    await rm(join(dir, 'upload.json'), {force: true})
    await rm(dir, {recursive: true, force: true})
  }
}

const readFd = (fd: number, into: Buffer, offset: number, length: number, position: number) =>
  new Promise<number>((done, fail) => read(fd, into, offset, length, position, (error, count) => (error ? fail(error) : done(count))))

/** Bytes per disk write of a streamed body: large writes, few syscalls, bounded memory. */
const WRITE_BATCH = 1024 * 1024

/** One pool of body workers per process, shared by every store in it; undefined where workers cannot start. */
let workers: BodyWorkers | undefined | null

/** A worker session for a body that has filled its first batch, with the hasher's MD5 and native checksums handed to it. */
function openSession(hasher: BodyHasher): WorkerSession | undefined {
  if (workers === null || workers?.broken) return undefined
  try {
    workers ??= new BodyWorkers()
    return workers.open(() => hasher.offload(WORKER_ALGORITHMS))
  } catch {
    workers = null
    return undefined
  }
}

/** Slabs of one body being written and hashed at once: the disk and a worker kept busy, memory bounded. */
const SLABS_IN_FLIGHT = 4

/** Writes `length` bytes of `buffer` at `position` (short writes resumed). */
async function writeAllAt(fd: number, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0
  while (done < length) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, buffer, done, length - done, position + done, (error, count) => (error ? reject(error) : resolve(count))),
    )
  }
}
