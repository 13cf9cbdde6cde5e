/**
 * The on-disk object store under `${stateDir}/s3/`. Object keys never become
 * paths: an object is a metadata record named by the SHA-256 of its key, which
 * points at immutable data files with random names. Writing the record (temp,
 * fsync, rename, folder fsync) is the commit point, so a kill at any instant
 * leaves the old object or the new one; data files nothing points to are crash
 * debris and are removed on open.
 *
 *   buckets/<bucket>/bucket.json                  bucket record and configurations
 *   buckets/<bucket>/objects/<sha256(key)>.json   object record
 *   buckets/<bucket>/objects/<random>.data        object data (one file, or one per multipart part)
 *   buckets/<bucket>/uploads/<uploadId>/upload.json, <n>.json, <n>-<random>.part
 */
import {createHash, randomBytes} from 'node:crypto'
import {link, mkdir, open, readdir, readFile, rename, rm, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {isTempName, readJsonIfExists, writeJsonAtomic} from '../../store/atomic.js'
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
}

export interface BucketRecord {
  name: string
  creationDate: string
  region: string
  notification?: unknown
  policy?: string
  publicAccessBlock?: Record<string, boolean>
  encryption?: unknown
  tags?: {Key: string; Value: string}[]
}

export interface UploadRecord {
  uploadId: string
  key: string
  initiated: string
  contentType: string
  metadata: Record<string, string>
  headers: Record<string, string>
  checksumAlgorithm?: string
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

const newId = () => randomBytes(12).toString('hex')
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
    await fsyncDir(join(this.root, 'buckets'))
    await rm(doomed, {recursive: true, force: true})
  }

  /**
   * Streams a body into a new data file, hashing every byte, and fsyncs it.
   * The random name is invisible until a record points at it, so no temp name is needed.
   */
  async writeData(
    dir: string,
    suffix: '.data' | '.part',
    body: AsyncIterable<Buffer | string>,
    hasher: BodyHasher,
    prefix = '',
  ): Promise<string> {
    const file = `${prefix}${newId()}${suffix}`
    const path = join(dir, file)
    const handle = await open(path, 'wx')
    try {
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece
        hasher.update(chunk)
        let offset = 0
        while (offset < chunk.length) offset += (await handle.write(chunk, offset)).bytesWritten
      }
      await handle.sync()
    } catch (error) {
      await handle.close()
      await rm(path, {force: true})
      throw error
    }
    await handle.close()
    return file
  }

  /** A second name for an immutable data file (copies and completed uploads cost no bytes). */
  async linkData(fromPath: string, bucket: string): Promise<string> {
    const file = `${newId()}.data`
    await link(fromPath, join(this.objectsDir(bucket), file))
    return file
  }

  metaPath(bucket: string, key: string) {
    return join(this.objectsDir(bucket), `${createHash('sha256').update(key).digest('hex')}.json`)
  }

  /** The commit point of every object write. */
  async commitObject(bucket: string, record: ObjectRecord): Promise<void> {
    await writeJsonAtomic(this.metaPath(bucket, record.key), record)
  }

  async removeObject(bucket: string, key: string): Promise<void> {
    await rm(this.metaPath(bucket, key), {force: true})
    await fsyncDir(this.objectsDir(bucket))
  }

  async removeFile(path: string): Promise<void> {
    await rm(path, {force: true})
  }

  async writeUpload(bucket: string, record: UploadRecord): Promise<void> {
    await writeJsonAtomic(join(this.uploadDir(bucket, record.uploadId), 'upload.json'), record)
  }

  async writePart(bucket: string, uploadId: string, part: PartRecord): Promise<void> {
    await writeJsonAtomic(join(this.uploadDir(bucket, uploadId), `${part.partNumber}.json`), part)
  }

  async removeUpload(bucket: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(bucket, uploadId)
    // upload.json goes first so a kill mid-removal never resurrects a half upload.
    await rm(join(dir, 'upload.json'), {force: true})
    await rm(dir, {recursive: true, force: true})
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
