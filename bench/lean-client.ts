/**
 * A lean signed S3 client for the benchmarks: requests are SigV4-signed ahead of
 * the timed loop (header signatures with UNSIGNED-PAYLOAD, or presigned URLs for
 * big transfers) and sent with plain node:http and keep-alive, so the figures
 * measure the server rather than the SDK's middleware stack (DESIGN §8). The same
 * requests go to the emulator, moto_server (accepts any signature) and the bare store.
 */
import {createHash, createHmac} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {Agent, type OutgoingHttpHeaders, request} from 'node:http'
import {pipeline} from 'node:stream/promises'
import {SignatureV4} from '@smithy/signature-v4'

type SourceData = string | ArrayBuffer | ArrayBufferView

/** The signer's hash interface over node:crypto (its pure-JS default would dominate a lean client). */
class NodeSha256 {
  private readonly hash
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret))
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest()
  }
}

function toBytes(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

export interface SignedRequest {
  method: string
  path: string
  headers: OutgoingHttpHeaders
}

export class LeanS3 {
  readonly agent: Agent
  private readonly url: URL
  private readonly signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  })

  constructor(
    endpoint: string,
    readonly concurrency: number,
  ) {
    this.url = new URL(endpoint)
    this.agent = new Agent({keepAlive: true, maxSockets: concurrency})
  }

  private base(method: string, path: string, headers: Record<string, string>) {
    return {
      method,
      protocol: 'http:',
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path,
      query: {},
      headers: {host: this.url.host, ...headers},
    }
  }

  /** Header-signed (UNSIGNED-PAYLOAD), to be sent within the 15 minutes the server allows. */
  async sign(method: string, path: string, contentLength?: number): Promise<SignedRequest> {
    const headers: Record<string, string> = {'x-amz-content-sha256': 'UNSIGNED-PAYLOAD'}
    if (contentLength !== undefined) headers['content-length'] = String(contentLength)
    const signed = await this.signer.sign(this.base(method, path, headers))
    return {method, path, headers: signed.headers}
  }

  /** A presigned URL's path and query (payload unsigned, as S3 presigned URLs are). */
  async presign(method: string, path: string, expiresIn = 3600): Promise<string> {
    // As S3's presigner does: the payload is declared unsigned, and that declaration travels in the query.
    const signed = await this.signer.presign(this.base(method, path, {'x-amz-content-sha256': 'UNSIGNED-PAYLOAD'}), {expiresIn})
    const query = Object.entries(signed.query ?? {})
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
      .join('&')
    return `${path}?${query}`
  }

  /** Sends a small request and returns the whole answer; anything but 2xx is an error. */
  send(signed: SignedRequest, body?: Buffer): Promise<Buffer> {
    return new Promise((done, fail) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: signed.method,
          path: signed.path,
          agent: this.agent,
          headers: signed.headers,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const answer = Buffer.concat(chunks)
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) done(answer)
            else fail(new Error(`${signed.method} ${signed.path}: ${status} ${answer.toString('utf8').slice(0, 300)}`))
          })
        },
      )
      req.on('error', fail)
      req.end(body)
    })
  }

  /** Streams a file to a presigned PUT URL. */
  async putFile(pathAndQuery: string, file: string): Promise<void> {
    const size = (await stat(file)).size
    await new Promise<void>((done, fail) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: 'PUT',
          path: pathAndQuery,
          agent: this.agent,
          headers: {'content-length': size},
        },
        (res) => {
          res.resume()
          res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`PUT ${pathAndQuery}: ${res.statusCode}`))))
        },
      )
      req.on('error', fail)
      pipeline(createReadStream(file, {highWaterMark: 1024 * 1024}), req).catch(fail)
    })
  }

  /** Streams a presigned GET URL's body into a file. */
  async getFile(pathAndQuery: string, file: string): Promise<void> {
    await new Promise<void>((done, fail) => {
      const req = request({host: this.url.hostname, port: this.url.port, method: 'GET', path: pathAndQuery, agent: this.agent}, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          fail(new Error(`GET ${pathAndQuery}: ${res.statusCode}`))
          return
        }
        pipeline(res, createWriteStream(file, {highWaterMark: 1024 * 1024})).then(done, fail)
      })
      req.on('error', fail)
      req.end()
    })
  }

  destroy(): void {
    this.agent.destroy()
  }
}
