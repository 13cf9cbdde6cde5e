/**
 * Authenticating one request: resolve the access key, check the clock and the
 * session token, recompute the SigV4 signature over the request as received,
 * and hand back the body as a stream of payload bytes (aws-chunked framing
 * removed and chunk signatures checked; a signed hex payload hash checked as
 * the bytes pass). Throws AwsError in the target service's protocol.
 */
import type {IncomingMessage} from 'node:http'
import {PassThrough} from 'node:stream'
import {AwsError} from '../errors.js'
import {readBody} from '../protocols/body.js'
import type {Protocol} from '../protocols/errors.js'
import type {CredentialResolver, SigningCredential} from '../types.js'
import {AwsChunkedDecoder, ContentSha256Check} from './chunked.js'
import {
  expiredToken,
  invalidSessionToken,
  malformedAuthorization,
  payloadHashMismatch,
  presignedUrlExpired,
  requestTimeSkewed,
  signatureMismatch,
  unknownAccessKey,
} from './refusals.js'
import {parseAmzDate, type SignatureClaims} from './scope.js'
import {computeSignature, decodeQuery, EMPTY_SHA256, sha256Hex, signaturesMatch, signedHeaderValues, signingKeyFor} from './sigv4.js'

const MAX_SKEW_MS = 15 * 60 * 1000
const HEX_SHA256 = /^[0-9a-f]{64}$/

export interface AuthenticationInput {
  req: IncomingMessage
  /** Path and query exactly as received. */
  rawPath: string
  rawQuery: string
  claims: SignatureClaims
  protocol: Protocol
  resolver: CredentialResolver
  now: Date
  /** Cap for bodies read whole to hash them (non-S3 requests without x-amz-content-sha256). */
  bodyLimit: number
  /** Called before the body is read (sends `100 Continue` when the client waits for it). */
  beforeBody(): void
}

export interface AuthenticatedRequest {
  credential: SigningCredential
  body: NodeJS.ReadableStream
  trailers: Record<string, string>
  contentLength?: number
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The signing time as YYYYMMDDTHHMMSSZ: X-Amz-Date (query or header), else the Date header. */
function signingTime(req: IncomingMessage, claims: SignatureClaims): string | undefined {
  if (claims.presigned) return claims.amzDate
  const amzDate = header(req, 'x-amz-date')
  if (amzDate) return amzDate
  const date = header(req, 'date')
  if (!date) return undefined
  const ms = Date.parse(date)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '')
}

function checkTime(input: AuthenticationInput, longDate: string | undefined): string {
  const {claims, protocol, now} = input
  if (!longDate) {
    return fail(malformedAuthorization(protocol, 'AWS authentication requires a valid Date or x-amz-date header.'))
  }
  const time = parseAmzDate(longDate)
  if (Number.isNaN(time)) return fail(malformedAuthorization(protocol, `X-Amz-Date '${longDate}' is not in the form YYYYMMDDTHHMMSSZ.`))
  if (longDate.slice(0, 8) !== claims.shortDate) {
    return fail(
      malformedAuthorization(protocol, `Invalid credential date '${claims.shortDate}': it is not the date of X-Amz-Date (${longDate}).`),
    )
  }
  if (claims.presigned) {
    if (time - now.getTime() > MAX_SKEW_MS) return fail(requestTimeSkewed(protocol, longDate, now))
    if (now.getTime() > time + claims.expires! * 1000) return fail(presignedUrlExpired(protocol))
  } else if (Math.abs(now.getTime() - time) > MAX_SKEW_MS) {
    return fail(requestTimeSkewed(protocol, longDate, now))
  }
  return longDate
}

function fail(error: AwsError): never {
  throw error
}

type PayloadMode = 'hash' | 'unsigned' | 'chunked-signed' | 'chunked-signed-trailer' | 'chunked-unsigned-trailer' | 'read-and-hash'

function payloadModeOf(declared: string | undefined, input: AuthenticationInput): PayloadMode {
  const {claims} = input
  if (declared === undefined) {
    if (claims.service !== 's3') return 'read-and-hash'
    if (claims.presigned) return 'unsigned'
    throw new AwsError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400)
  }
  switch (declared) {
    case 'UNSIGNED-PAYLOAD':
      return 'unsigned'
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return 'chunked-signed'
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return 'chunked-signed-trailer'
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return 'chunked-unsigned-trailer'
  }
  if (HEX_SHA256.test(declared)) return 'hash'
  if (declared.startsWith('STREAMING-AWS4-ECDSA')) {
    throw new AwsError(
      'InvalidRequest',
      `x-amz-content-sha256 '${declared}' is SigV4a, which the emulator does not accept; sign with SigV4.`,
    )
  }
  throw new AwsError(
    'InvalidArgument',
    `x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-… value; got '${declared.slice(0, 80)}'.`,
  )
}

/** Feeds the request into a transform, carrying a client abort through as an error. */
function through(req: IncomingMessage, transform: NodeJS.ReadWriteStream & {destroy(error?: Error): void}): NodeJS.ReadableStream {
  req.on('error', (error) => transform.destroy(error))
  req.on('aborted', () =>
    transform.destroy(new AwsError('IncompleteBody', 'The client closed the connection before sending the whole body.')),
  )
  req.pipe(transform)
  return transform
}

function hasBody(req: IncomingMessage): boolean {
  const length = header(req, 'content-length')
  return header(req, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0')
}

export async function authenticate(input: AuthenticationInput): Promise<AuthenticatedRequest> {
  const {req, claims, protocol} = input
  const credential = input.resolver.resolve(claims.accessKeyId)
  if (!credential) throw unknownAccessKey(protocol, claims.accessKeyId)
  const longDate = checkTime(input, signingTime(req, claims))

  const query = decodeQuery(input.rawQuery)
  const presentedToken = claims.presigned ? query['X-Amz-Security-Token'] : header(req, 'x-amz-security-token')
  if ((credential.sessionToken ?? undefined) !== (presentedToken ?? undefined)) throw invalidSessionToken(protocol)
  if (credential.expiration !== undefined && credential.expiration.getTime() <= Date.now()) throw expiredToken(protocol)

  if (!claims.signedHeaders.includes('host')) {
    throw malformedAuthorization(protocol, "The 'host' header must be among the signed headers.")
  }
  const signed = signedHeaderValues(req.headers, claims.signedHeaders)
  if ('missing' in signed) throw signatureMismatch(protocol)

  const declared = claims.presigned ? (query['X-Amz-Content-Sha256'] as string | undefined) : header(req, 'x-amz-content-sha256')
  const mode = payloadModeOf(declared, input)
  let payloadHash = declared ?? 'UNSIGNED-PAYLOAD'
  let buffered: Buffer | undefined
  if (mode === 'read-and-hash') {
    input.beforeBody()
    buffered = await readBody(req, input.bodyLimit)
    payloadHash = sha256Hex(buffered)
  }

  const signingKey = await signingKeyFor(
    credential.accessKeyId,
    credential.secretAccessKey,
    claims.shortDate,
    claims.region,
    claims.service,
  )
  const request = {method: req.method ?? 'GET', path: input.rawPath, query, headers: signed.headers}
  const check = await computeSignature(claims.service, request, signed.headers, payloadHash, longDate, claims.scope, signingKey)
  if (!signaturesMatch(check.expected, claims.signature)) throw signatureMismatch(protocol, check)

  const trailers: Record<string, string> = {}
  const lengthHeader = header(req, 'content-length')
  let contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader)
  let body: NodeJS.ReadableStream
  switch (mode) {
    case 'read-and-hash': {
      const stream = new PassThrough()
      stream.end(buffered)
      body = stream
      break
    }
    case 'unsigned':
      body = req
      break
    case 'hash':
      body =
        payloadHash === EMPTY_SHA256 && !hasBody(req)
          ? req
          : through(req, new ContentSha256Check(payloadHash, () => payloadHashMismatch(protocol)))
      break
    default: {
      const decodedText = header(req, 'x-amz-decoded-content-length')
      const decodedLength = decodedText === undefined ? undefined : Number(decodedText)
      if (decodedLength !== undefined && !(Number.isInteger(decodedLength) && decodedLength >= 0)) {
        throw new AwsError('InvalidArgument', `x-amz-decoded-content-length '${decodedText}' is not a byte count.`)
      }
      contentLength = decodedLength
      const declaredTrailers = (header(req, 'x-amz-trailer') ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean)
      const signing =
        mode === 'chunked-unsigned-trailer'
          ? undefined
          : {signingKey, longDate, scope: claims.scope, seedSignature: claims.signature, signedTrailer: mode === 'chunked-signed-trailer'}
      body = through(req, new AwsChunkedDecoder({signing, decodedLength, declaredTrailers, trailers}))
    }
  }
  return {credential, body, trailers, contentLength: Number.isFinite(contentLength) ? contentLength : undefined}
}
