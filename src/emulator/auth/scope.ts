/**
 * Reading a SigV4 request's claims: who signed (access key), for which date,
 * region and service (the credential scope), which headers were signed, and
 * the signature — from the Authorization header or a presigned URL's query.
 * The service in the scope is how the server routes the request.
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256'

export interface SignatureClaims {
  accessKeyId: string
  /** YYYYMMDD from the credential scope. */
  shortDate: string
  region: string
  service: string
  /** `${shortDate}/${region}/${service}/aws4_request` */
  scope: string
  signedHeaders: string[]
  signature: string
  /** True when the claims come from the query string (a presigned URL). */
  presigned: boolean
  /** Presigned only: X-Amz-Date and X-Amz-Expires (seconds). */
  amzDate?: string
  expires?: number
}

/** Why claims could not be read; the server renders these in the service's protocol. */
export class MalformedAuthorization extends Error {
  constructor(
    message: string,
    /** The service, when the scope was readable enough to name it. */
    readonly service?: string,
  ) {
    super(message)
    this.name = 'MalformedAuthorization'
  }
}

interface Scope {
  accessKeyId: string
  shortDate: string
  region: string
  service: string
  scope: string
}

/** `AKID/20240101/us-east-1/s3/aws4_request`; access key ids never contain '/'. */
export function parseCredential(credential: string): Scope {
  const parts = credential.split('/')
  const [accessKeyId, shortDate, region, service, terminator] = parts
  if (parts.length !== 5 || !accessKeyId || !shortDate || !region || !service || terminator !== 'aws4_request') {
    throw new MalformedAuthorization(
      `Credential should be scoped to a valid region and service, as AKID/YYYYMMDD/REGION/SERVICE/aws4_request; got '${credential}'.`,
      parts.length >= 4 ? service : undefined,
    )
  }
  if (!/^\d{8}$/.test(shortDate)) throw new MalformedAuthorization(`Credential date '${shortDate}' is not YYYYMMDD.`, service)
  return {accessKeyId, shortDate, region, service, scope: `${shortDate}/${region}/${service}/aws4_request`}
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=a;b, Signature=hex` (separators vary between clients). */
export function parseAuthorizationHeader(header: string): SignatureClaims {
  const space = header.indexOf(' ')
  const algorithm = space === -1 ? header : header.slice(0, space)
  if (algorithm !== ALGORITHM) {
    const sigv4a = algorithm === 'AWS4-ECDSA-P256-SHA256'
    throw new MalformedAuthorization(
      sigv4a
        ? 'SigV4a (AWS4-ECDSA-P256-SHA256) signatures are not accepted by the emulator; sign with SigV4 (AWS4-HMAC-SHA256).'
        : `Unsupported Authorization Type '${algorithm}'; the emulator accepts AWS4-HMAC-SHA256 only.`,
    )
  }
  const fields: Record<string, string> = {}
  for (const part of header.slice(space + 1).split(',')) {
    const trimmed = part.trim()
    const eq = trimmed.indexOf('=')
    if (eq > 0) fields[trimmed.slice(0, eq)] = trimmed.slice(eq + 1)
  }
  const {Credential: credential, SignedHeaders: signedHeaders, Signature: signature} = fields
  if (!credential) throw new MalformedAuthorization("Authorization header requires 'Credential' parameter.")
  const scope = parseCredential(credential)
  if (!signedHeaders) throw new MalformedAuthorization("Authorization header requires 'SignedHeaders' parameter.", scope.service)
  if (!signature) throw new MalformedAuthorization("Authorization header requires 'Signature' parameter.", scope.service)
  return {...scope, signedHeaders: signedHeaders.split(';'), signature, presigned: false}
}

/** The X-Amz-* query parameters of a presigned URL. */
export function parsePresignedQuery(query: URLSearchParams): SignatureClaims {
  const credential = query.get('X-Amz-Credential') ?? ''
  const scope = parseCredential(credential)
  const algorithm = query.get('X-Amz-Algorithm')
  if (algorithm !== ALGORITHM) {
    throw new MalformedAuthorization(`X-Amz-Algorithm must be ${ALGORITHM}; got '${algorithm ?? ''}'.`, scope.service)
  }
  const amzDate = query.get('X-Amz-Date')
  const signedHeaders = query.get('X-Amz-SignedHeaders')
  const signature = query.get('X-Amz-Signature')
  const expiresText = query.get('X-Amz-Expires')
  const missing = [
    ['X-Amz-Date', amzDate],
    ['X-Amz-SignedHeaders', signedHeaders],
    ['X-Amz-Signature', signature],
    ['X-Amz-Expires', expiresText],
  ].find(([, value]) => !value)
  if (missing) throw new MalformedAuthorization(`Query-string authentication requires the ${missing[0]} parameter.`, scope.service)
  const expires = Number(expiresText)
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
    throw new MalformedAuthorization('X-Amz-Expires must be a whole number of seconds from 1 to 604800 (7 days).', scope.service)
  }
  return {...scope, signedHeaders: signedHeaders!.split(';'), signature: signature!, presigned: true, amzDate: amzDate!, expires}
}

/** `20240101T120000Z` to epoch milliseconds, or NaN. */
export function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return Number.NaN
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}
