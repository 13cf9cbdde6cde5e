/**
 * Multipart uploads: parts are durable files under the upload's folder;
 * completing links them into the bucket as the object's data files (no bytes
 * copied) and commits one object record, so the object appears whole or not at all.
 */
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {type BodyDigests, BodyHasher, type ChecksumAlgorithm, checksumAlgorithmOf, compositeChecksum} from './checksums.js'
import * as errors from './errors.js'
import type {ObjectAttributes, S3State, Upload} from './state.js'
import {validateKey} from './state.js'
import {isUploadId, type ObjectRecord, type PartRecord, type Segment, type UploadRecord} from './store.js'

export interface CompletedPart {
  partNumber: number
  etag: string
}

export function parsePartNumber(value: string | null): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1 || number > 10000)
    throw errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', value ?? '')
  return number
}

export class MultipartUploads {
  constructor(readonly state: S3State) {}

  upload(bucketName: string, uploadId: string): Upload {
    const upload = isUploadId(uploadId) ? this.state.bucket(bucketName).uploads.get(uploadId) : undefined
    if (!upload) {
      this.state.bucket(bucketName)
      throw errors.noSuchUpload(uploadId)
    }
    return upload
  }

  async create(
    bucketName: string,
    key: string,
    attributes: ObjectAttributes,
    checksumAlgorithm?: ChecksumAlgorithm,
    extra: Pick<UploadRecord, 'tags' | 'retention' | 'legalHold'> = {},
  ): Promise<UploadRecord> {
    const bucket = this.state.bucket(bucketName)
    validateKey(key)
    const record: UploadRecord = {
      uploadId: this.state.store.newUploadId(),
      key,
      initiated: new Date().toISOString(),
      contentType: attributes.contentType ?? 'binary/octet-stream',
      metadata: attributes.metadata,
      headers: attributes.headers,
    }
    if (checksumAlgorithm) record.checksumAlgorithm = checksumAlgorithm
    Object.assign(record, extra)
    await this.state.store.writeUpload(bucketName, record)
    bucket.uploads.set(record.uploadId, {record, parts: new Map()})
    return record
  }

  async uploadPart(
    bucketName: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Buffer | string>,
    checksumAlgorithms: ChecksumAlgorithm[],
    verify: (digests: BodyDigests) => void,
  ): Promise<PartRecord> {
    const upload = this.upload(bucketName, uploadId)
    if (upload.record.key !== key) throw errors.noSuchUpload(uploadId)
    const algorithms = [...checksumAlgorithms]
    const required = checksumAlgorithmOf(upload.record.checksumAlgorithm)
    if (required && !algorithms.includes(required)) algorithms.push(required)
    const dir = this.state.store.uploadDir(bucketName, uploadId)
    const hasher = new BodyHasher(algorithms)
    const {file, durable} = await this.state.store.streamData(dir, '.part', body, hasher, `${partNumber}-`)
    try {
      const digests = hasher.finish()
      verify(digests)
      if (!this.state.bucket(bucketName).uploads.has(uploadId)) throw errors.noSuchUpload(uploadId)
      const part: PartRecord = {
        partNumber,
        file,
        size: digests.size,
        etag: digests.md5.toString('hex'),
        lastModified: new Date().toISOString(),
        checksums: digests.checksums,
      }
      await this.state.store.writePart(bucketName, uploadId, part, durable)
      const replaced = upload.parts.get(partNumber)
      upload.parts.set(partNumber, part)
      if (replaced) await this.state.store.removeFile(join(dir, replaced.file))
      return part
    } catch (error) {
      await this.state.store.removeFile(join(dir, file))
      throw error
    }
  }

  async complete(bucketName: string, key: string, uploadId: string, requested: CompletedPart[]): Promise<ObjectRecord> {
    const bucket = this.state.bucket(bucketName)
    const upload = this.upload(bucketName, uploadId)
    if (upload.record.key !== key) throw errors.noSuchUpload(uploadId)
    if (requested.length === 0) throw errors.malformedXml()
    const parts: PartRecord[] = []
    for (const [index, wanted] of requested.entries()) {
      if (index > 0 && wanted.partNumber <= (requested[index - 1] as CompletedPart).partNumber) throw errors.invalidPartOrder()
      const part = upload.parts.get(wanted.partNumber)
      if (!part || part.etag !== wanted.etag.replace(/^"|"$/g, '')) throw errors.invalidPart(wanted.partNumber)
      parts.push(part)
    }
    for (const part of parts.slice(0, -1)) if (part.size < errors.MIN_PART_SIZE) throw errors.entityTooSmall(part.size)
    const dir = this.state.store.uploadDir(bucketName, uploadId)
    const segments: Segment[] = []
    try {
      for (const part of parts) segments.push({file: await this.state.store.linkData(join(dir, part.file), bucketName), size: part.size})
      const md5s = createHash('md5')
      for (const part of parts) md5s.update(Buffer.from(part.etag, 'hex'))
      const record: ObjectRecord = {
        key,
        segments,
        size: parts.reduce((sum, part) => sum + part.size, 0),
        etag: `${md5s.digest('hex')}-${parts.length}`,
        lastModified: new Date().toISOString(),
        contentType: upload.record.contentType,
        metadata: upload.record.metadata,
        headers: upload.record.headers,
        checksums: {},
        partSizes: parts.map((part) => part.size),
      }
      if (upload.record.tags) record.tags = upload.record.tags
      if (upload.record.retention) record.retention = upload.record.retention
      if (upload.record.legalHold) record.legalHold = upload.record.legalHold
      const algorithm = checksumAlgorithmOf(upload.record.checksumAlgorithm)
      if (algorithm && parts.every((part) => part.checksums[algorithm] !== undefined)) {
        record.checksums[algorithm] = compositeChecksum(
          algorithm,
          parts.map((part) => part.checksums[algorithm] as string),
        )
        record.checksumType = 'COMPOSITE'
      }
      await this.state.commit(bucket, record)
      bucket.uploads.delete(uploadId)
      await this.state.store.removeUpload(bucketName, uploadId)
      return record
    } catch (error) {
      for (const segment of segments) await this.state.store.removeFile(this.state.store.dataPath(bucketName, segment.file))
      throw error
    }
  }

  async abort(bucketName: string, key: string, uploadId: string): Promise<void> {
    const upload = this.upload(bucketName, uploadId)
    if (upload.record.key !== key) throw errors.noSuchUpload(uploadId)
    this.state.bucket(bucketName).uploads.delete(uploadId)
    await this.state.store.removeUpload(bucketName, uploadId)
  }

  listParts(bucketName: string, key: string, uploadId: string, marker: number, maxParts: number) {
    const upload = this.upload(bucketName, uploadId)
    if (upload.record.key !== key) throw errors.noSuchUpload(uploadId)
    const all = [...upload.parts.values()].filter((part) => part.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber)
    const parts = all.slice(0, maxParts)
    return {upload: upload.record, parts, isTruncated: all.length > parts.length}
  }

  /** Uploads in key order (then initiation order), resuming after key-marker / upload-id-marker. */
  listUploads(bucketName: string, prefix: string, keyMarker: string, uploadIdMarker: string, maxUploads: number) {
    const sorted = [...this.state.bucket(bucketName).uploads.values()]
      .map((upload) => upload.record)
      .filter((record) => record.key.startsWith(prefix))
      .sort((a, b) =>
        a.key !== b.key
          ? a.key < b.key
            ? -1
            : 1
          : a.initiated !== b.initiated
            ? a.initiated < b.initiated
              ? -1
              : 1
            : a.uploadId < b.uploadId
              ? -1
              : 1,
      )
    let start = 0
    if (keyMarker !== '') {
      const marker =
        uploadIdMarker === '' ? -1 : sorted.findIndex((record) => record.key === keyMarker && record.uploadId === uploadIdMarker)
      start = marker >= 0 ? marker + 1 : sorted.findIndex((record) => record.key > keyMarker)
      if (start < 0) start = sorted.length
    }
    const uploads = sorted.slice(start, start + maxUploads)
    return {uploads, isTruncated: sorted.length > start + uploads.length}
  }
}
