/**
 * botocore's service models as a test oracle: load one (gunzip + JSON from the
 * installed botocore, found once through python3), check a parsed boto3
 * response against an operation's output shape, and name the errors the model
 * gives an operation. Never used by the emulator itself.
 */
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

export interface MemberRef {
  shape: string
  location?: string
  locationName?: string
}

export interface Shape {
  type: string
  members?: Record<string, MemberRef>
  required?: string[]
  member?: MemberRef
  value?: MemberRef
  enum?: string[]
  streaming?: boolean
  exception?: boolean
  error?: {code?: string; httpStatusCode?: number; senderFault?: boolean}
}

export interface OperationModel {
  name: string
  http?: {method: string; requestUri: string}
  input?: {shape: string}
  output?: {shape: string; resultWrapper?: string}
  errors?: {shape: string}[]
  deprecated?: boolean
}

export interface ServiceModel {
  metadata: {protocol: string; apiVersion: string; signingName?: string; endpointPrefix: string}
  operations: Record<string, OperationModel>
  shapes: Record<string, Shape>
}

/** Members AWS always returns though the model does not mark them required, by shape name. */
export type AlwaysReturned = Record<string, readonly string[]>

let dataDir: {dir?: string; reason?: string} | undefined

/** botocore's data folder, or why there is none (no python3, no botocore). */
export function botocoreData(): {dir?: string; reason?: string} {
  if (dataDir) return dataDir
  try {
    const root = execFileSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim()
    dataDir = {dir: join(root, 'data')}
  } catch (error) {
    dataDir = {reason: `python3 with botocore is not available (${(error as Error).message.split('\n')[0]})`}
  }
  return dataDir
}

/** The newest model of a service, or why it cannot be loaded. */
export function loadModel(service: string): {model?: ServiceModel; reason?: string} {
  const {dir, reason} = botocoreData()
  if (!dir) return {reason}
  try {
    const versions = readdirSync(join(dir, service)).sort()
    const version = versions.at(-1)
    if (!version) return {reason: `botocore has no model for ${service}`}
    const gz = readFileSync(join(dir, service, version, 'service-2.json.gz'))
    return {model: JSON.parse(gunzipSync(gz).toString('utf8')) as ServiceModel}
  } catch (error) {
    return {reason: `cannot read botocore's ${service} model: ${(error as Error).message}`}
  }
}

function shapeOf(model: ServiceModel, name: string): Shape {
  const shape = model.shapes[name]
  if (!shape) throw new Error(`the model has no shape ${name}`)
  return shape
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Does a JSON value (as drive.py prints it) have the type a shape declares? */
function typeProblem(shape: Shape, value: unknown): string | undefined {
  switch (shape.type) {
    case 'structure':
    case 'map':
      return isObject(value) ? undefined : 'an object'
    case 'list':
      return Array.isArray(value) ? undefined : 'a list'
    case 'string':
      if (typeof value !== 'string') return 'a string'
      return shape.enum && !shape.enum.includes(value) ? `one of ${shape.enum.join('|')}` : undefined
    case 'integer':
    case 'long':
      return Number.isInteger(value) ? undefined : 'an integer'
    case 'float':
    case 'double':
      return typeof value === 'number' ? undefined : 'a number'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean'
    case 'timestamp':
      return isObject(value) && typeof value.$timestamp === 'string' ? undefined : 'a timestamp'
    case 'blob':
      return isObject(value) && typeof value.$blob === 'string' ? undefined : 'bytes'
    default:
      return `a ${shape.type} (unknown to this checker)`
  }
}

/** boto3 URL-decodes and JSON-parses IAM's policy documents before handing them back. */
const DECODED_BY_BOTO3 = new Set(['policyDocumentType'])

function checkValue(model: ServiceModel, shapeName: string, value: unknown, path: string, always: AlwaysReturned, out: string[]): void {
  const shape = shapeOf(model, shapeName)
  if (DECODED_BY_BOTO3.has(shapeName) && isObject(value)) return
  const problem = typeProblem(shape, value)
  if (problem) {
    out.push(`${path}: expected ${problem} (${shapeName}), got ${JSON.stringify(value)}`)
    return
  }
  if (shape.type === 'structure' && isObject(value)) {
    const members = shape.members ?? {}
    for (const name of new Set([...(shape.required ?? []), ...(always[shapeName] ?? [])]))
      if (value[name] === undefined || value[name] === null)
        out.push(`${path}.${name}: missing (${(shape.required ?? []).includes(name) ? 'required by the model' : 'always returned by AWS'})`)
    for (const [name, member] of Object.entries(members))
      if (value[name] !== undefined && value[name] !== null) checkValue(model, member.shape, value[name], `${path}.${name}`, always, out)
  } else if (shape.type === 'list' && Array.isArray(value) && shape.member) {
    for (const [index, item] of value.entries()) checkValue(model, shape.member.shape, item, `${path}[${index}]`, always, out)
  } else if (shape.type === 'map' && isObject(value) && shape.value) {
    for (const [key, item] of Object.entries(value)) checkValue(model, shape.value.shape, item, `${path}.${key}`, always, out)
  }
}

/** Every way a parsed response departs from the operation's output shape (empty when it conforms). */
export function outputProblems(model: ServiceModel, operation: string, response: unknown, always: AlwaysReturned = {}): string[] {
  const op = model.operations[operation]
  if (!op) return [`the model has no operation ${operation}`]
  if (!op.output)
    return isObject(response) && Object.keys(response).length === 0 ? [] : [`expected no output, got ${JSON.stringify(response)}`]
  const out: string[] = []
  checkValue(model, op.output.shape, response, operation, always, out)
  return out
}

export interface ModeledError {
  /** The error shape's name, which boto3 uses for its exception class. */
  shape: string
  code: string
  status?: number
}

/** The errors the model names for an operation, with their wire codes and statuses. */
export function modeledErrors(model: ServiceModel, operation: string): ModeledError[] {
  return (model.operations[operation]?.errors ?? []).map(({shape}) => {
    const error = shapeOf(model, shape).error
    return {shape, code: error?.code ?? shape, status: error?.httpStatusCode}
  })
}

/** Modeled errors a client can cause (server faults such as ServiceFailure cannot be provoked on purpose). */
export function inducibleErrors(model: ServiceModel, operation: string): ModeledError[] {
  return modeledErrors(model, operation).filter((error) => error.status === undefined || error.status < 500)
}

/** A markdown table: every operation of the model, served or refused. */
export function coverageTable(model: ServiceModel, service: string, served: ReadonlySet<string>): string {
  const names = Object.keys(model.operations).sort()
  const rows = names.map((name) => `| ${name} | ${served.has(name) ? 'served' : 'refused'} |`)
  const count = names.filter((name) => served.has(name)).length
  return [
    `${service} (${model.metadata.apiVersion}): ${count} of ${names.length} operations served`,
    '',
    '| operation | emulator |',
    '|---|---|',
    ...rows,
  ].join('\n')
}
