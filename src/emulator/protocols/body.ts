/**
 * Reading a whole request body, for the protocols whose inputs are small
 * documents (Query forms, JSON, S3's XML configurations). Object data is never
 * read this way: S3 streams ctx.body to disk.
 */
import {AwsError} from '../errors.js'

/** Large enough for any Query/JSON input AWS accepts (CloudFormation templates are ≤ 1 MB inline). */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024

export function bodyTooLarge(limit: number): AwsError {
  return new AwsError('RequestEntityTooLarge', `The request body is larger than the emulator accepts here (${limit} bytes).`, 413)
}

/** Reads a stream to one Buffer, refusing more than `limit` bytes. */
export async function readBody(body: NodeJS.ReadableStream, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    length += bytes.byteLength
    if (length > limit) {
      // Stop the sender instead of reading on; the error answer closes the connection.
      ;(body as NodeJS.ReadableStream & {destroy?: () => void}).destroy?.()
      throw bodyTooLarge(limit)
    }
    chunks.push(bytes)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)
}
