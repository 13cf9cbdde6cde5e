/**
 * Decoding aws-chunked bodies as they stream (never holding more than one chunk):
 *   signed:    `<hex>;chunk-signature=<sig>\r\n<data>\r\n` … `0;chunk-signature=<sig>\r\n`
 *   unsigned:  `<hex>\r\n<data>\r\n` … `0\r\n`
 * then optional trailing headers (`x-amz-checksum-crc32:…\r\n`, and when signed
 * `x-amz-trailer-signature:…\r\n`) and a blank line. Each signed chunk is held
 * until its signature (chained from the request's seed signature) checks out,
 * so no unverified byte reaches a service.
 */
import {createHash, type Hash} from 'node:crypto'
import {Transform, type TransformCallback} from 'node:stream'
import {AwsError} from '../errors.js'
import {chunkSignature, sha256Hex, signaturesMatch, trailerSignature} from './sigv4.js'

export interface ChunkSigning {
  signingKey: Uint8Array
  longDate: string
  scope: string
  /** The request's own signature: the first chunk's "previous" signature. */
  seedSignature: string
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailers carry x-amz-trailer-signature. */
  signedTrailer: boolean
}

export interface AwsChunkedOptions {
  /** Present for the signed variants. */
  signing?: ChunkSigning
  /** x-amz-decoded-content-length, checked at the end. */
  decodedLength?: number
  /** Trailer names the request declared in x-amz-trailer; each must arrive. */
  declaredTrailers?: readonly string[]
  /** Filled with the trailing headers (lower-case names) before the stream ends. */
  trailers: Record<string, string>
}

const MAX_LINE = 8 * 1024
/** A chunk is held whole while its signature is checked; clients send 8 KB–8 MB chunks. */
const MAX_SIGNED_CHUNK = 64 * 1024 * 1024

const malformed = (detail: string) => new AwsError('InvalidRequest', `Malformed aws-chunked body: ${detail}.`)
const incomplete = (detail: string) => new AwsError('IncompleteBody', `The request body ended early: ${detail}.`)
const badChunkSignature = () =>
  new AwsError(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided (aws-chunked chunk signature).',
    403,
  )

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done'

export class AwsChunkedDecoder extends Transform {
  private state: State = 'size'
  private line = ''
  private remaining = 0
  private crlfSeen = 0
  private decoded = 0
  private given = ''
  private previous: string
  private hash: Hash | undefined
  private held: Buffer[] = []
  private trailerText = ''
  private trailerSigned = false

  constructor(private readonly options: AwsChunkedOptions) {
    super()
    this.previous = options.signing?.seedSignature ?? ''
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk)
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.finish()
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  private consume(buffer: Buffer): void {
    let offset = 0
    while (offset < buffer.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const newline = buffer.indexOf(10, offset)
          const end = newline === -1 ? buffer.length : newline
          this.line += buffer.toString('latin1', offset, end)
          if (this.line.length > MAX_LINE) throw malformed('a chunk header or trailer line is too long')
          offset = end + (newline === -1 ? 0 : 1)
          if (newline !== -1) {
            const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line
            this.line = ''
            if (this.state === 'size') this.startChunk(line)
            else this.trailerLine(line)
          }
          break
        }
        case 'data': {
          const take = Math.min(this.remaining, buffer.length - offset)
          const piece = buffer.subarray(offset, offset + take)
          offset += take
          this.remaining -= take
          this.decoded += take
          if (this.hash) {
            this.hash.update(piece)
            this.held.push(piece)
          } else {
            this.push(piece)
          }
          if (this.remaining === 0) {
            this.endChunk()
            this.state = 'data-crlf'
            this.crlfSeen = 0
          }
          break
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? 13 : 10
          if (buffer[offset] !== expected) throw malformed('chunk data is not followed by CRLF')
          offset++
          if (++this.crlfSeen === 2) this.state = 'size'
          break
        }
        case 'done': {
          // Some clients end with an extra CRLF; anything else is an error.
          const byte = buffer[offset]
          if (byte !== 13 && byte !== 10) throw malformed('data after the final chunk')
          offset++
          break
        }
      }
    }
  }

  private startChunk(line: string): void {
    const semicolon = line.indexOf(';')
    const sizeText = (semicolon === -1 ? line : line.slice(0, semicolon)).trim()
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`chunk size '${sizeText.slice(0, 32)}' is not hexadecimal`)
    const size = Number.parseInt(sizeText, 16)
    const signing = this.options.signing
    if (signing) {
      const match = /chunk-signature=([0-9a-f]{64})/.exec(line.slice(semicolon + 1))
      if (semicolon === -1 || !match) throw malformed('a signed chunk has no chunk-signature')
      if (size > MAX_SIGNED_CHUNK) throw malformed(`signed chunks larger than ${MAX_SIGNED_CHUNK} bytes are refused`)
      this.given = match[1]!
      this.hash = createHash('sha256')
    }
    if (size === 0) {
      this.endChunk()
      this.state = 'trailer'
    } else {
      this.remaining = size
      this.state = 'data'
    }
  }

  /** Verifies the finished chunk's signature and releases its data. */
  private endChunk(): void {
    const signing = this.options.signing
    if (!signing || !this.hash) return
    const expected = chunkSignature(signing.signingKey, signing.longDate, signing.scope, this.previous, this.hash.digest('hex'))
    this.hash = undefined
    if (!signaturesMatch(expected, this.given)) throw badChunkSignature()
    this.previous = expected
    for (const piece of this.held) this.push(piece)
    this.held = []
  }

  private trailerLine(line: string): void {
    if (line === '') {
      this.state = 'done'
      return
    }
    const colon = line.indexOf(':')
    if (colon <= 0) throw malformed(`trailer line '${line.slice(0, 64)}' is not name:value`)
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const signing = this.options.signing
    if (name === 'x-amz-trailer-signature') {
      if (!signing?.signedTrailer) throw malformed('a trailer signature in an unsigned-trailer body')
      const expected = trailerSignature(signing.signingKey, signing.longDate, signing.scope, this.previous, sha256Hex(this.trailerText))
      if (!signaturesMatch(expected, value)) throw badChunkSignature()
      this.trailerSigned = true
      return
    }
    if (this.trailerSigned) throw malformed('trailers after the trailer signature')
    this.trailerText += `${name}:${value}\n`
    this.options.trailers[name] = value
  }

  private finish(): void {
    if (this.state === 'size' || this.state === 'data' || this.state === 'data-crlf') {
      throw incomplete('the aws-chunked body stopped before its final 0-length chunk')
    }
    if (this.state === 'trailer' && this.line !== '') throw incomplete('a trailer line was cut off')
    const signing = this.options.signing
    if (signing?.signedTrailer && !this.trailerSigned) {
      throw new AwsError('SignatureDoesNotMatch', 'The aws-chunked body ended without its x-amz-trailer-signature.', 403)
    }
    for (const name of this.options.declaredTrailers ?? []) {
      if (this.options.trailers[name] === undefined) throw incomplete(`the declared trailer ${name} did not arrive`)
    }
    const expected = this.options.decodedLength
    if (expected !== undefined && expected !== this.decoded) {
      throw incomplete(`x-amz-decoded-content-length says ${expected} bytes, the chunks held ${this.decoded}`)
    }
  }
}

/** Passes a body through while hashing it; fails at the end unless it hashes to the signed x-amz-content-sha256. */
export class ContentSha256Check extends Transform {
  private readonly hash = createHash('sha256')
  constructor(
    private readonly expected: string,
    private readonly mismatch: () => AwsError,
  ) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk)
    callback(null, chunk)
  }
  override _flush(callback: TransformCallback): void {
    callback(this.hash.digest('hex') === this.expected ? null : this.mismatch())
  }
}
