/**
 * Writing an answer: every response carries Content-Length (node drops the
 * body of HEAD answers by itself, keeping the length header as AWS does).
 */
import type {OutgoingHttpHeaders, ServerResponse} from 'node:http'

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string | undefined,
  body: string | Uint8Array,
  headers?: OutgoingHttpHeaders,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  res.statusCode = status
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!)
  if (contentType) res.setHeader('Content-Type', contentType)
  res.setHeader('Content-Length', bytes.byteLength)
  res.end(bytes)
}

/** An answer with no body (204s, S3 PUT/DELETE answers). */
export function sendEmpty(res: ServerResponse, status = 200, headers?: OutgoingHttpHeaders): void {
  res.statusCode = status
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!)
  res.setHeader('Content-Length', 0)
  res.end()
}
