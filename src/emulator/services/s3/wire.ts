/** Reading S3 request headers and writing object headers: the parts shared by every S3 operation. */
import {createHash} from 'node:crypto'
import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http'
import {readBody} from '../../protocols/body.js'
import {parseXml, type XmlNode} from '../../protocols/restxml.js'
import {ACCOUNT_ID, type RequestContext} from '../../types.js'
import {
  type BodyDigests,
  BodyHasher,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type Checksums,
  checksumAlgorithmOf,
  checksumHeader,
} from './checksums.js'
import * as errors from './errors.js'
import type {Conditions, ObjectAttributes} from './state.js'
import type {ObjectRecord} from './store.js'

/** The account's canonical user, as S3 names owners. */
export const OWNER = {ID: createHash('sha256').update(ACCOUNT_ID).digest('hex'), DisplayName: 'ncap'}

const SYSTEM_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/** Content-Type, x-amz-meta-*, and the system headers an object keeps. */
export function objectAttributes(headers: IncomingHttpHeaders): ObjectAttributes {
  const metadata: Record<string, string> = {}
  const kept: Record<string, string> = {}
  for (const name in headers) {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = header(headers, name) ?? ''
  }
  for (const name of SYSTEM_HEADERS) {
    let value = header(headers, name)
    // aws-chunked is the transfer framing, not the object's encoding.
    if (name === 'content-encoding' && value !== undefined)
      value = value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '' && part !== 'aws-chunked')
        .join(',')
    if (value) kept[name] = value
  }
  const attributes: ObjectAttributes = {metadata, headers: kept}
  const contentType = header(headers, 'content-type')
  if (contentType) attributes.contentType = contentType
  return attributes
}

/** The checksums a request declares, by header, by x-amz-sdk-checksum-algorithm, or by a promised trailer. */
export function requestedChecksums(headers: IncomingHttpHeaders): ChecksumAlgorithm[] {
  const algorithms = new Set<ChecksumAlgorithm>()
  for (const algorithm of CHECKSUM_ALGORITHMS) if (headers[checksumHeader(algorithm)] !== undefined) algorithms.add(algorithm)
  const named = checksumAlgorithmOf(header(headers, 'x-amz-sdk-checksum-algorithm'))
  if (named) algorithms.add(named)
  const trailer = header(headers, 'x-amz-trailer')
  if (trailer)
    for (const name of trailer.split(',')) {
      const algorithm = checksumAlgorithmOf(name.trim().replace(/^x-amz-checksum-/i, ''))
      if (algorithm) algorithms.add(algorithm)
    }
  return [...algorithms]
}

/**
 * Checks what the client said about the body against what arrived: length, Content-MD5,
 * checksums (headers or trailers). A hex x-amz-content-sha256 is the core's to check, as it is signed.
 */
export function verifyBody(ctx: RequestContext): (digests: BodyDigests) => void {
  const headers = ctx.req.headers
  const md5 = header(headers, 'content-md5')
  if (md5 !== undefined && Buffer.from(md5, 'base64').length !== 16) throw errors.invalidDigest()
  return (digests) => {
    if (ctx.contentLength !== undefined && digests.size !== ctx.contentLength) throw errors.incompleteBody()
    if (md5 !== undefined && !Buffer.from(md5, 'base64').equals(digests.md5)) throw errors.badDigest()
    for (const algorithm of Object.keys(digests.checksums) as ChecksumAlgorithm[]) {
      const name = checksumHeader(algorithm)
      const expected = header(headers, name) ?? ctx.trailers[name]
      if (expected !== undefined && expected !== digests.checksums[algorithm])
        throw errors.badDigest(`The ${algorithm} you specified did not match the calculated checksum.`)
    }
  }
}

/** Reads a small document body (XML configurations, Delete lists), verifying its MD5/checksums like an object body. */
export async function readDocument(ctx: RequestContext): Promise<Buffer> {
  const verify = verifyBody(ctx)
  const bytes = await readBody(ctx.body, 20 * 1024 * 1024)
  const hasher = new BodyHasher(requestedChecksums(ctx.req.headers))
  hasher.update(bytes)
  verify(hasher.finish())
  return bytes
}

export async function readXmlDocument(ctx: RequestContext, root: string, arrays: readonly string[] = []): Promise<XmlNode> {
  const text = (await readDocument(ctx)).toString('utf8')
  if (text.trim() === '') throw errors.malformedXml()
  const parsed = await parseXml(text, {arrays})
  if (parsed.root !== root) throw errors.malformedXml()
  return parsed.content
}

function httpDate(header: string | undefined): Date | undefined {
  if (header === undefined) return undefined
  const time = Date.parse(header)
  return Number.isNaN(time) ? undefined : new Date(time)
}

export function conditionsOf(headers: IncomingHttpHeaders, prefix = ''): Conditions {
  const conditions: Conditions = {}
  const ifMatch = header(headers, `${prefix}if-match`)
  const ifNoneMatch = header(headers, `${prefix}if-none-match`)
  const ifModifiedSince = httpDate(header(headers, `${prefix}if-modified-since`))
  const ifUnmodifiedSince = httpDate(header(headers, `${prefix}if-unmodified-since`))
  if (ifMatch !== undefined) conditions.ifMatch = ifMatch
  if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch
  if (ifModifiedSince) conditions.ifModifiedSince = ifModifiedSince
  if (ifUnmodifiedSince) conditions.ifUnmodifiedSince = ifUnmodifiedSince
  return conditions
}

export const quoted = (etag: string) => `"${etag}"`

export function checksumHeaders(checksums: Checksums): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [algorithm, value] of Object.entries(checksums)) out[checksumHeader(algorithm as ChecksumAlgorithm)] = value
  return out
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
}

/** The headers GET and HEAD answer with; checksums only for whole-object reads that asked for them. */
export function objectHeaders(record: ObjectRecord, query: URLSearchParams, withChecksums: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    'Content-Type': record.contentType,
    ETag: quoted(record.etag),
    'Last-Modified': new Date(record.lastModified).toUTCString(),
    'Accept-Ranges': 'bytes',
    // Every object is encrypted at rest with SSE-S3 by default, as on AWS since 2023.
    'x-amz-server-side-encryption': 'AES256',
  }
  for (const [name, value] of Object.entries(record.headers)) out[name] = value
  for (const [name, value] of Object.entries(record.metadata)) out[`x-amz-meta-${name}`] = value
  for (const [parameter, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = query.get(parameter)
    if (value !== null) out[name] = value
  }
  if (withChecksums && Object.keys(record.checksums).length > 0) {
    Object.assign(out, checksumHeaders(record.checksums))
    if (record.checksumType) out['x-amz-checksum-type'] = record.checksumType
  }
  return out
}

/** Parses a numeric query parameter (max-keys, max-parts, …) the way S3 refuses bad ones. */
export function integerParameter(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const value = query.get(name)
  if (value === null || value === '') return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0)
    throw errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, value)
  return Math.min(number, max)
}
