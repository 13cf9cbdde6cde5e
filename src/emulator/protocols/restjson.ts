/**
 * REST-JSON (Lambda, API Gateway): the operation is chosen by method and path
 * template (`/2015-03-31/functions/{FunctionName}/invocations`), inputs come
 * from path labels, query, headers and a JSON body, outputs are JSON with
 * some members in headers. This module matches routes and reads/writes bodies;
 * the service declares its routes.
 */
import type {OutgoingHttpHeaders} from 'node:http'
import type {RequestContext} from '../types.js'
import {readJsonInput} from './json.js'
import {sendBody, sendEmpty} from './respond.js'

export interface RestRoute<Operation extends string = string> {
  method: string
  /** A path template: `{Name}` matches one segment, `{Name+}` the rest of the path. */
  path: string
  operation: Operation
}

export interface RouteMatch<Operation extends string = string> {
  operation: Operation
  /** Path labels, percent-decoded. */
  labels: Record<string, string>
}

interface CompiledRoute<Operation extends string> {
  method: string
  pattern: RegExp
  names: string[]
  operation: Operation
}

function compile<Operation extends string>(route: RestRoute<Operation>): CompiledRoute<Operation> {
  const names: string[] = []
  // A trailing slash is optional on the wire (the SDKs send `/functions/`, the CLI `/functions`).
  const template = route.path.endsWith('/') && route.path.length > 1 ? route.path.slice(0, -1) : route.path
  const source = template
    .split(/(\{[A-Za-z0-9_]+\+?\})/)
    .map((part) => {
      const label = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(part)
      if (!label) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      names.push(label[1]!)
      return label[2] ? '(.+)' : '([^/]+)'
    })
    .join('')
  return {method: route.method, pattern: new RegExp(`^${source}/?$`), names, operation: route.operation}
}

/** Compiles a service's routes once; the returned function finds the route for a request. */
export function restRouter<Operation extends string>(
  routes: readonly RestRoute<Operation>[],
): (method: string, rawPath: string) => RouteMatch<Operation> | undefined {
  const compiled = routes.map(compile)
  return (method, rawPath) => {
    for (const route of compiled) {
      if (route.method !== method) continue
      const match = route.pattern.exec(rawPath)
      if (!match) continue
      const labels: Record<string, string> = {}
      route.names.forEach((name, index) => {
        labels[name] = decodeURIComponent(match[index + 1]!)
      })
      return {operation: route.operation, labels}
    }
    return undefined
  }
}

/** The JSON body as an object ({} when empty). */
export function readJsonBody(ctx: Pick<RequestContext, 'body'>, options: {limit?: number} = {}): Promise<Record<string, unknown>> {
  return readJsonInput(ctx.body, options.limit)
}

/** Sends a REST-JSON answer; with no body (undefined), an empty answer (204s, DeleteFunction). */
export function sendRestJson(ctx: Pick<RequestContext, 'res'>, status: number, body?: unknown, headers?: OutgoingHttpHeaders): void {
  if (body === undefined) sendEmpty(ctx.res, status, headers)
  else sendBody(ctx.res, status, 'application/json', JSON.stringify(body), headers)
}
