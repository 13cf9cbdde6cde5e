/**
 * The only requests AWS serves unsigned here: STS's federation calls
 * (AssumeRoleWithWebIdentity, AssumeRoleWithSAML), which carry their proof in
 * the token or assertion instead of a signature. Any other unsigned request is
 * refused by the core as before.
 */
import type {IncomingMessage} from 'node:http'
import {PassThrough} from 'node:stream'
import {readBody} from '../protocols/body.js'
import {ACCOUNT_ID, type Principal} from '../types.js'

export const UNSIGNED_STS_ACTIONS: readonly string[] = ['AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML']

/**
 * Who an unsigned federation call comes from: nobody yet. It has the shape of a
 * user with no IAM user behind it, so no identity policy ever applies and any
 * authorization is an implicit deny.
 */
export const ANONYMOUS_PRINCIPAL: Principal = {
  kind: 'user',
  accountId: ACCOUNT_ID,
  arn: 'anonymous',
  userId: 'anonymous',
  accessKeyId: '',
}

export const isAnonymous = (principal: Principal) => principal.arn === ANONYMOUS_PRINCIPAL.arn && principal.accessKeyId === ''

/**
 * When an unsigned Query request (GET query string or form POST) names one of
 * STS's unsigned actions, the body (already read, to find the Action) to hand
 * to STS; undefined otherwise.
 */
export async function unsignedStsRequest(
  req: IncomingMessage,
  rawQuery: string,
  limit: number,
): Promise<{body: NodeJS.ReadableStream} | undefined> {
  const named = (encoded: string) => {
    const action = new URLSearchParams(encoded).get('Action')
    return action !== null && UNSIGNED_STS_ACTIONS.includes(action)
  }
  const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
  if (req.method === 'POST' && form) {
    const bytes = await readBody(req, limit)
    if (!named(rawQuery) && !named(bytes.toString('utf8'))) return undefined
    const body = new PassThrough()
    body.end(bytes)
    return {body}
  }
  if (req.method === 'GET' && named(rawQuery)) {
    const body = new PassThrough()
    body.end()
    return {body}
  }
  return undefined
}
