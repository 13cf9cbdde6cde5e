/**
 * SigV4 verification with the SDK's own signer (@smithy/signature-v4): the
 * canonical request, string to sign and derived key come from its code, so the
 * emulator agrees with the clients by construction. Only the final HMAC and the
 * chunk/trailer strings to sign (which the signer keeps private) are written
 * here. Derived keys are cached per (secret, date, region, service).
 *
 * The signer (with the @smithy/core modules it requires) is loaded on first use, not at
 * start-up, and with require(): through import() Node's ESM loader lexes and wraps the
 * CommonJS package, about twice the ~35 ms that require() takes.
 */
import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import {createRequire} from 'node:module'
import type * as SignerModule from '@smithy/signature-v4'

type SourceData = string | ArrayBuffer | ArrayBufferView

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

/** The SDK's hash interface over node:crypto (the SDK's pure-JS SHA-256 would cost far more per request). */
export class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret))
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data))
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest()
  }
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function hmacHex(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex')
}

interface CanonicalForm {
  request(request: RequestToVerify, headers: Record<string, string>, payloadHash: string): string
  stringToSign(longDate: string, scope: string, canonicalRequest: string): string
}

interface Signer {
  module: typeof SignerModule
  /** S3 signs the path as sent; every other service signs it normalised and encoded once more. */
  s3Form: CanonicalForm
  normalisedForm: CanonicalForm
}

function makeSigner(module: typeof SignerModule): Signer {
  const {ALGORITHM_IDENTIFIER, SignatureV4Base} = module
  /** Exposes the signer's canonicalisation (protected in the SDK) to the verifier. */
  class SdkCanonicalForm extends SignatureV4Base implements CanonicalForm {
    constructor(uriEscapePath: boolean) {
      super({
        service: 'emulator',
        region: 'us-east-1',
        credentials: {accessKeyId: '', secretAccessKey: ''},
        sha256: NodeSha256,
        uriEscapePath,
      })
    }
    request(request: RequestToVerify, headers: Record<string, string>, payloadHash: string): string {
      return this.createCanonicalRequest(
        request as unknown as Parameters<SignerModule.SignatureV4Base['createCanonicalRequest']>[0],
        headers,
        payloadHash,
      )
    }
    /**
     * The signer's createStringToSign, minus its async hash-object round trip (a
     * measurable share of a small request's CPU): the same four lines.
     */
    stringToSign(longDate: string, scope: string, canonicalRequest: string): string {
      return `${ALGORITHM_IDENTIFIER}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`
    }
  }
  return {module, s3Form: new SdkCanonicalForm(false), normalisedForm: new SdkCanonicalForm(true)}
}

let signer: Signer | undefined

/** The SDK's signer, loaded on the first call (the server also calls this once it answers, to have it ready). */
export function loadSigner(): Signer {
  signer ??= makeSigner(createRequire(import.meta.url)('@smithy/signature-v4') as typeof SignerModule)
  return signer
}

export interface RequestToVerify {
  method: string
  /** The path exactly as received (still percent-encoded). */
  path: string
  /** Decoded query parameters (repeated names as arrays); X-Amz-Signature is ignored by the signer. */
  query: Record<string, string | string[]>
  /** The signed headers only, lower-case names. */
  headers: Record<string, string>
}

const signingKeys = new Map<string, Uint8Array>()
const MAX_SIGNING_KEYS = 1000

/** The derived key for (secret, date, region, service), via the SDK's derivation, cached. */
export async function signingKeyFor(accessKeyId: string, secretAccessKey: string, shortDate: string, region: string, service: string) {
  const cacheKey = `${secretAccessKey}\n${shortDate}\n${region}\n${service}`
  let key = signingKeys.get(cacheKey)
  if (!key) {
    key = await loadSigner().module.getSigningKey(NodeSha256, {accessKeyId, secretAccessKey}, shortDate, region, service)
    if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear()
    signingKeys.set(cacheKey, key)
  }
  return key
}

/** Decodes a raw query string the way the signer expects it: names and values percent-decoded, '+' kept as '+'. */
export function decodeQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null)
  if (rawQuery.length === 0) return query
  for (const pair of rawQuery.split('&')) {
    if (pair.length === 0) continue
    const eq = pair.indexOf('=')
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq))
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1))
    const existing = query[name]
    if (existing === undefined) query[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else query[name] = [existing, value]
  }
  return query
}

function decodeComponent(text: string): string {
  if (!text.includes('%')) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The signed headers' canonical values, or the name of a signed header the request lacks. */
export function signedHeaderValues(
  headers: NodeJS.Dict<string | string[]>,
  signedHeaders: readonly string[],
): {headers: Record<string, string>} | {missing: string} {
  const values: Record<string, string> = {}
  for (const name of signedHeaders) {
    const value = headers[name]
    if (value === undefined) return {missing: name}
    values[name] = Array.isArray(value) ? value.join(',') : value
  }
  const signable = new Set(signedHeaders)
  return {headers: loadSigner().module.getCanonicalHeaders({headers: values} as never, undefined, signable)}
}

export interface SignatureCheck {
  expected: string
  canonicalRequest: string
  stringToSign: string
}

/** Recomputes the signature the client should have sent. */
export async function computeSignature(
  service: string,
  request: RequestToVerify,
  canonicalHeaders: Record<string, string>,
  payloadHash: string,
  longDate: string,
  scope: string,
  signingKey: Uint8Array,
): Promise<SignatureCheck> {
  const {s3Form, normalisedForm} = loadSigner()
  const form = service === 's3' ? s3Form : normalisedForm
  const canonicalRequest = form.request(request, canonicalHeaders, payloadHash)
  const stringToSign = form.stringToSign(longDate, scope, canonicalRequest)
  return {expected: hmacHex(signingKey, stringToSign), canonicalRequest, stringToSign}
}

/** Constant-time comparison of two hex signatures. */
export function signaturesMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1')
  const b = Buffer.from(given, 'latin1')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), chained to the previous one. */
export function chunkSignature(signingKey: Uint8Array, longDate: string, scope: string, previous: string, chunkSha256: string): string {
  return hmacHex(signingKey, `AWS4-HMAC-SHA256-PAYLOAD\n${longDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256}`)
}

/** The signature over an aws-chunked body's trailing headers (…-PAYLOAD-TRAILER), chained to the final chunk's. */
export function trailerSignature(signingKey: Uint8Array, longDate: string, scope: string, previous: string, trailerSha256: string): string {
  return hmacHex(signingKey, `AWS4-HMAC-SHA256-TRAILER\n${longDate}\n${scope}\n${previous}\n${trailerSha256}`)
}
