/**
 * The Query and EC2-Query protocols (IAM, STS, CloudFormation, EC2): inputs are
 * form-encoded name/value pairs (in the body of a POST or the query string of
 * a GET) with lists as `Name.member.N` (Query) or `Name.N` (EC2) and maps as
 * `Name.entry.N.key`/`.value`; outputs are `<ActionResponse><ActionResult>…`
 * (Query) or `<ActionResponse><requestId/>…` (EC2).
 */
import {AwsError} from '../errors.js'
import type {RequestContext} from '../types.js'
import {readBody} from './body.js'
import {sendBody} from './respond.js'
import {writeChildren, XML_DECLARATION} from './xml.js'

/** The XML namespace each Query service answers in (the SDKs do not require it, but AWS sends it). */
export const QUERY_XMLNS: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
}

export type QueryParams = Record<string, string>

export interface QueryRequest {
  action: string
  version?: string
  params: QueryParams
}

function addPairs(params: QueryParams, encoded: string): void {
  if (encoded.length === 0) return
  for (const [name, value] of new URLSearchParams(encoded)) params[name] = value
}

/** Reads the action and its parameters from the query string and, for a form POST, the body. */
export async function parseQuery(ctx: Pick<RequestContext, 'req' | 'url' | 'body'>): Promise<QueryRequest> {
  const params: QueryParams = Object.create(null)
  addPairs(params, ctx.url.search.slice(1))
  if (ctx.req.method === 'POST') {
    const type = ctx.req.headers['content-type'] ?? ''
    const body = await readBody(ctx.body)
    if (body.length > 0) {
      if (!type.startsWith('application/x-www-form-urlencoded')) {
        throw new AwsError('InvalidParameterValue', `Query requests carry a form-encoded body; this one is '${type || 'untyped'}'.`)
      }
      addPairs(params, body.toString('utf8'))
    }
  }
  const action = params.Action
  if (!action) throw new AwsError('MissingAction', 'The request must contain the parameter Action.')
  return {action, version: params.Version, params}
}

function indexedKeys(params: QueryParams, prefix: string): Map<number, string[]> {
  const start = `${prefix}.`
  const found = new Map<number, string[]>()
  for (const name in params) {
    if (!name.startsWith(start)) continue
    const rest = name.slice(start.length)
    const dot = rest.indexOf('.')
    const index = Number(dot === -1 ? rest : rest.slice(0, dot))
    if (!Number.isInteger(index) || index < 1) continue
    const names = found.get(index)
    if (names) names.push(name)
    else found.set(index, [name])
  }
  return found
}

function sortedIndexes(found: Map<number, string[]>): number[] {
  return [...found.keys()].sort((a, b) => a - b)
}

/**
 * A list of scalars: `queryList(p, 'PolicyArns.member')` reads `PolicyArns.member.1`, `.2`, …;
 * for EC2, `queryList(p, 'InstanceId')` reads `InstanceId.1`, …. Ordered by index.
 */
export function queryList(params: QueryParams, prefix: string): string[] {
  const found = indexedKeys(params, prefix)
  const out: string[] = []
  for (const index of sortedIndexes(found)) {
    const value = params[`${prefix}.${index}`]
    if (value !== undefined) out.push(value)
  }
  return out
}

/**
 * A list of structures, each as its own parameter set with the prefix removed:
 * `queryStructs(p, 'Tags.member')` turns `Tags.member.1.Key=a&Tags.member.1.Value=b`
 * into `[{Key: 'a', Value: 'b'}]`. Nested lists stay readable with queryList on each entry
 * (EC2: `queryStructs(p, 'Filter')` then `queryList(filter, 'Value')`).
 */
export function queryStructs(params: QueryParams, prefix: string): QueryParams[] {
  const found = indexedKeys(params, prefix)
  const out: QueryParams[] = []
  for (const index of sortedIndexes(found)) {
    const head = `${prefix}.${index}.`
    const entry: QueryParams = Object.create(null)
    for (const name of found.get(index)!) {
      if (name.startsWith(head)) entry[name.slice(head.length)] = params[name]!
    }
    out.push(entry)
  }
  return out
}

/** A map: `queryMap(p, 'Attributes')` reads `Attributes.entry.N.key` / `.value` (names adjustable for services that rename them). */
export function queryMap(
  params: QueryParams,
  prefix: string,
  names: {entry?: string; key?: string; value?: string} = {},
): Record<string, string> {
  const {entry = 'entry', key = 'key', value = 'value'} = names
  const out: Record<string, string> = Object.create(null)
  for (const item of queryStructs(params, entry ? `${prefix}.${entry}` : prefix)) {
    const name = item[key]
    if (name !== undefined) out[name] = item[value] ?? ''
  }
  return out
}

/** A required parameter, or the error AWS gives when it is missing (ValidationError for Query, MissingParameter for EC2). */
export function requireParam(params: QueryParams, name: string, options: {ec2?: boolean} = {}): string {
  const value = params[name]
  if (value !== undefined) return value
  if (options.ec2) throw new AwsError('MissingParameter', `The request must contain the parameter ${name}`)
  const member = name.charAt(0).toLowerCase() + name.slice(1)
  throw new AwsError(
    'ValidationError',
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  )
}

export interface QueryResultOptions {
  /** EC2-Query: members directly under the response, lists as <item>, <requestId> first. */
  ec2?: boolean
  /** The response's namespace; defaults to the service's (QUERY_XMLNS). */
  xmlns?: string
}

/**
 * Answers a Query action: `result` (plain objects, arrays, strings, numbers, booleans, Dates)
 * becomes `<ActionResult>`; with no result only the metadata is sent (DeleteUser, …).
 */
export function sendQueryResult(
  ctx: Pick<RequestContext, 'res' | 'requestId' | 'service'>,
  action: string,
  result?: Record<string, unknown>,
  options: QueryResultOptions = {},
): void {
  const xmlns = options.xmlns ?? QUERY_XMLNS[ctx.service]
  const open = xmlns ? `<${action}Response xmlns="${xmlns}">` : `<${action}Response>`
  const out = [XML_DECLARATION, open]
  if (options.ec2) {
    out.push(`<requestId>${ctx.requestId}</requestId>`)
    if (result) writeChildren(result, {list: 'item'}, out)
  } else {
    if (result) {
      out.push(`<${action}Result>`)
      writeChildren(result, {list: 'member'}, out)
      out.push(`</${action}Result>`)
    }
    out.push(`<ResponseMetadata><RequestId>${ctx.requestId}</RequestId></ResponseMetadata>`)
  }
  out.push(`</${action}Response>`)
  sendBody(ctx.res, 200, 'text/xml', out.join(''))
}
