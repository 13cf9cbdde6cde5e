/** S3's rules that need no state: names, keys, ETag matching, Range and the GET/HEAD preconditions. */
import * as errors from './errors.js'
import type {ObjectRecord} from './store.js'

export interface Conditions {
  ifMatch?: string
  ifNoneMatch?: string
  ifModifiedSince?: Date
  ifUnmodifiedSince?: Date
}

const VALID_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function validateBucketName(name: string): void {
  if (!VALID_BUCKET.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('xn--'))
    throw errors.invalidBucketName(name)
}

export function validateKey(key: string): void {
  if (key.length === 0) throw errors.invalidArgument('Object key must not be empty', 'key', '')
  if (Buffer.byteLength(key) > 1024) throw errors.keyTooLong()
}

export function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '').replace(/^"|"$/g, '')
    return tag === '*' || tag === etag
  })
}

/** A Range header against an object's size: undefined means the whole object (absent, malformed or multi-range, as S3 does). */
export function parseRange(header: string | undefined, size: number): {start: number; end: number} | undefined {
  if (!header) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  if (match[1] === '') {
    const suffix = Number(match[2])
    if (suffix === 0 || size === 0) throw errors.invalidRange(size)
    return {start: Math.max(0, size - suffix), end: size - 1}
  }
  const start = Number(match[1])
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (match[2] !== '' && Number(match[2]) < start) return undefined
  if (start >= size) throw errors.invalidRange(size)
  return {start, end}
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000)

/** GET/HEAD preconditions in S3's (RFC 7232) order; throws PreconditionFailed, or reports 304. */
export function evaluateConditions(record: ObjectRecord, conditions: Conditions): {notModified: boolean} {
  const modified = seconds(record.lastModified)
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, record.etag)) throw errors.preconditionFailed('If-Match')
  } else if (conditions.ifUnmodifiedSince && modified > conditions.ifUnmodifiedSince.getTime() / 1000) {
    throw errors.preconditionFailed('If-Unmodified-Since')
  }
  if (conditions.ifNoneMatch !== undefined) return {notModified: etagMatches(conditions.ifNoneMatch, record.etag)}
  if (conditions.ifModifiedSince && modified <= conditions.ifModifiedSince.getTime() / 1000) return {notModified: true}
  return {notModified: false}
}
