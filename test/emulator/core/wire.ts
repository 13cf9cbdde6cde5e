/** Hand-signed requests for the core's tests: the SDK's own SignatureV4 signs, node:http sends exactly those bytes. */
import {createHash} from 'node:crypto'
import {request} from 'node:http'
import {Sha256} from '@aws-crypto/sha256-js'
import {HttpRequest} from '@smithy/protocol-http'
import {SignatureV4} from '@smithy/signature-v4'

export interface WireResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  /** True when the server sent `100 Continue`. */
  continued: boolean
}

export interface WireRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Buffer
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

export function signer(service: string, credentials = {accessKeyId: 'test', secretAccessKey: 'test'}, applyChecksum = service === 's3') {
  return new SignatureV4({service, region: 'us-east-1', credentials, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum})
}

/** Signs a request for `endpoint` with the SDK's signer; returns the request with its Authorization header. */
export async function sign(
  endpoint: string,
  service: string,
  input: WireRequest,
  options: {
    credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
    signingDate?: Date
    applyChecksum?: boolean
  } = {},
): Promise<WireRequest> {
  const url = new URL(endpoint)
  const [path, rawQuery] = input.path.split('?') as [string, string | undefined]
  const query: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(rawQuery ?? '')) query[k] = v
  const http = new HttpRequest({
    method: input.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query,
    headers: {host: url.host, ...input.headers},
    body: input.body,
  })
  const signed = await signer(service, options.credentials, options.applyChecksum).sign(http, {
    signingDate: options.signingDate ?? new Date(),
  })
  return {method: input.method, path: input.path, headers: signed.headers as Record<string, string>, body: input.body}
}

/** Sends bytes as given; with `expect: 100-continue` the body waits for the server's 100. */
export function send(endpoint: string, input: WireRequest): Promise<WireResponse> {
  const url = new URL(endpoint)
  return new Promise((resolve, reject) => {
    let continued = false
    const req = request({host: url.hostname, port: url.port, method: input.method, path: input.path, headers: input.headers})
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), continued}),
      )
      res.on('error', reject)
    })
    const expects = Object.entries(input.headers).some(([k, v]) => k.toLowerCase() === 'expect' && v === '100-continue')
    if (expects) {
      req.on('continue', () => {
        continued = true
        req.end(input.body)
      })
      req.flushHeaders()
    } else {
      req.end(input.body)
    }
  })
}

/** The Authorization header's Signature, the seed of aws-chunked chunk signatures. */
export function seedSignatureOf(headers: Record<string, string>): string {
  return /Signature=([0-9a-f]{64})/.exec(headers.authorization ?? '')![1]!
}

/**
 * An aws-chunked body signed chunk by chunk, each string to sign signed by the SDK's signer
 * (SignatureV4.sign(string)); with `trailer`, the trailing headers and their signature follow.
 */
export async function signedChunkedBody(
  chunks: Buffer[],
  options: {seed: string; signingDate: Date; trailer?: Record<string, string>; service?: string},
): Promise<Buffer> {
  const s = signer(options.service ?? 's3')
  const longDate = options.signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '')
  const scope = `${longDate.slice(0, 8)}/us-east-1/${options.service ?? 's3'}/aws4_request`
  const empty = sha256Hex('')
  const out: Buffer[] = []
  let previous = options.seed
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', longDate, scope, previous, empty, sha256Hex(chunk)].join('\n')
    previous = await s.sign(toSign, {signingDate: options.signingDate})
    out.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`))
    if (chunk.length > 0) out.push(chunk, Buffer.from('\r\n'))
  }
  if (options.trailer) {
    const text = Object.entries(options.trailer)
      .map(([k, v]) => `${k}:${v}\n`)
      .join('')
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', longDate, scope, previous, sha256Hex(text)].join('\n')
    const signature = await s.sign(toSign, {signingDate: options.signingDate})
    out.push(Buffer.from(`${text.replace(/\n/g, '\r\n')}x-amz-trailer-signature:${signature}\r\n\r\n`))
  } else {
    out.push(Buffer.from('\r\n'))
  }
  return Buffer.concat(out)
}
