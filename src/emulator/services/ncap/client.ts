/**
 * A tiny client of the emulator's control API (signing name `ncap`, JSON 1.1,
 * target prefix `NcapEmulator`), signed with the account's admin key as any
 * SDK client would sign it. `ncap emulator clock` speaks through it; it loads
 * no SDK client, so the command starts quickly.
 */
import {createHash, createHmac} from 'node:crypto'
import {request} from 'node:http'
import {ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY, DEFAULT_REGION} from '../../types.js'

type SourceData = string | ArrayBuffer | ArrayBufferView

/** The signer's hash interface over node:crypto. */
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

/** An error the control API answered with (its JSON __type and message). */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ControlError'
  }
}

export interface ClockAnswer {
  Now: string
  OffsetMs: number
}

export interface AdvanceAnswer extends ClockAnswer {
  TimersFired: number
  /** What the emulator recorded while the clock moved (schedules fired, deliveries…). */
  Events?: import('../../event-record.js').EmulatorEvent[]
}

/** Calls one control operation; resolves with its JSON output. */
export async function callControl<T = Record<string, unknown>>(
  endpoint: string,
  operation: string,
  input: Record<string, unknown> = {},
  timeoutMs = 120_000,
): Promise<T> {
  const {SignatureV4} = await import('@smithy/signature-v4')
  const url = new URL(endpoint)
  const body = JSON.stringify(input)
  const signer = new SignatureV4({
    service: 'ncap',
    region: DEFAULT_REGION,
    credentials: {accessKeyId: ADMIN_ACCESS_KEY_ID, secretAccessKey: ADMIN_SECRET_ACCESS_KEY},
    sha256: NodeSha256,
  })
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `NcapEmulator.${operation}`,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  })
  return new Promise((done, fail) => {
    const req = request(
      {host: url.hostname, port: url.port, method: 'POST', path: '/', headers: signed.headers, timeout: timeoutMs},
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: Record<string, unknown> = {}
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
          } catch {
            fail(
              new ControlError(
                'InvalidResponse',
                `the emulator answered ${res.statusCode} with something that is not JSON: ${text.slice(0, 200)}`,
                res.statusCode ?? 0,
              ),
            )
            return
          }
          if ((res.statusCode ?? 0) >= 300) {
            fail(new ControlError(String(parsed.__type ?? 'Error'), String(parsed.message ?? text), res.statusCode ?? 0))
            return
          }
          done(parsed as T)
        })
        res.on('error', fail)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`the emulator did not answer ${operation} within ${timeoutMs} ms`)))
    req.on('error', fail)
    req.end(body)
  })
}
