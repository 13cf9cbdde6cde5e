/**
 * The JSON 1.0/1.1 protocol (SSM, CloudWatch Logs, EventBridge, Secrets
 * Manager, …): a POST to `/` whose `X-Amz-Target: Prefix.Operation` names the
 * operation and whose body is the input as JSON; the answer is the output as
 * JSON in the same content type.
 */
import {AwsError} from '../errors.js'
import type {RequestContext} from '../types.js'
import {readBody} from './body.js'
import {sendBody} from './respond.js'

export interface JsonRequest {
  /** The whole X-Amz-Target, for example AmazonSSM.SendCommand. */
  target: string
  /** The part before the dot (AmazonSSM, Logs_20140328, AWSEvents, secretsmanager). */
  targetPrefix: string
  operation: string
  input: Record<string, unknown>
}

/** Reads the operation from X-Amz-Target and the input from the JSON body ({} when empty). */
export async function parseJsonRequest(ctx: Pick<RequestContext, 'req' | 'body'>, options: {limit?: number} = {}): Promise<JsonRequest> {
  const targetHeader = ctx.req.headers['x-amz-target']
  const target = Array.isArray(targetHeader) ? targetHeader[0] : targetHeader
  if (!target) throw new AwsError('UnknownOperationException', 'The request has no X-Amz-Target header naming the operation.')
  const dot = target.lastIndexOf('.')
  const operation = target.slice(dot + 1)
  const input = await readJsonInput(ctx.body, options.limit)
  return {target, targetPrefix: dot === -1 ? '' : target.slice(0, dot), operation, input}
}

/** A JSON object body; empty means {}. Anything else is a SerializationException, as AWS answers. */
export async function readJsonInput(body: NodeJS.ReadableStream, limit?: number): Promise<Record<string, unknown>> {
  const bytes = await readBody(body, limit)
  if (bytes.length === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new AwsError('SerializationException', `The request body is not valid JSON: ${(error as Error).message}`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object.')
  }
  return value as Record<string, unknown>
}

/** JSON 1.0 services (DynamoDB-style) and 1.1 services differ only in this content type. */
export function jsonContentTypeOf(ctx: Pick<RequestContext, 'req'>): string {
  const type = ctx.req.headers['content-type']
  return typeof type === 'string' && type.startsWith('application/x-amz-json-1.0')
    ? 'application/x-amz-json-1.0'
    : 'application/x-amz-json-1.1'
}

/**
 * Sends an operation's output. Dates should be given as epoch seconds (numbers),
 * which is how JSON protocols carry timestamps; JSON.stringify writes Date objects as ISO strings.
 */
export function sendJson(ctx: Pick<RequestContext, 'req' | 'res'>, output: unknown = {}, status = 200): void {
  sendBody(ctx.res, status, jsonContentTypeOf(ctx), JSON.stringify(output))
}
