/**
 * The contract of a resource provider: one module per type family creates,
 * updates and deletes resources of its types through the emulated services'
 * real APIs, returns the value of Ref and the attributes Fn::GetAtt reads, and
 * says which property changes AWS applies in place and which need a new
 * physical resource.
 */
import type {Clients} from './clients.js'

export type Attributes = Record<string, unknown>

export interface ProvisionContext {
  clients: Clients
  region: string
  accountId: string
  stackId: string
  stackName: string
  logicalId: string
  resourceType: string
  /** A physical name as AWS generates it: stackName-LogicalId-RANDOM, within `max` characters. */
  generateName(options?: {max?: number; lowercase?: boolean; separator?: string}): string
  /** The engine's own services: nested stacks and custom resources need more than an SDK call. */
  engine: EngineHooks
  /** For updates: the resource's current physical id and attributes. */
  physicalId?: string
  attributes?: Attributes
}

export interface EngineHooks {
  endpoint: string
  /** Creates, updates or deletes a nested stack and waits for it to settle; resolves with the child's outputs. */
  nestedStack(
    action: 'create' | 'update' | 'delete',
    context: ProvisionContext,
    properties: Record<string, unknown>,
  ): Promise<{stackId: string; outputs: Record<string, string>}>
  /** Sends a custom resource request to its function and waits for the response (or the timeout). */
  customResource(
    requestType: 'Create' | 'Update' | 'Delete',
    context: ProvisionContext,
    properties: Record<string, unknown>,
    oldProperties?: Record<string, unknown>,
  ): Promise<{physicalId: string; data: Record<string, unknown>}>
}

export interface Provisioned {
  physicalId: string
  attributes?: Attributes
  /** What Ref returns when it is not the physical id. */
  ref?: string
}

export interface ResourceProvider {
  /** Property names whose change needs a new physical resource ('Always'), or sometimes ('Conditional'). */
  replacement?: Record<string, 'Always' | 'Conditional'>
  /** Every change replaces (Lambda::Permission, BucketPolicy's Bucket …): true. */
  replaceAlways?: boolean
  /** Properties that must be set. */
  required?: string[]
  /** The attribute names Fn::GetAtt may read ('*' for any, as custom resources and nested stacks' Outputs.X). */
  attributes: string[]
  create(ctx: ProvisionContext, props: Record<string, unknown>): Promise<Provisioned>
  /** In place; absent when every change replaces. */
  update?(ctx: ProvisionContext, props: Record<string, unknown>, old: Record<string, unknown>): Promise<Provisioned>
  delete(ctx: ProvisionContext, physicalId: string, props: Record<string, unknown>): Promise<void>
}

/** An error whose message CloudFormation shows as the resource's status reason. */
export class ProvisionError extends Error {}

/** Whether an SDK error means the thing is already gone (delete is then done). */
export function isNotFound(error: unknown): boolean {
  const name = (error as {name?: string})?.name ?? ''
  return /NoSuch|NotFound|ResourceNotFound|DoesNotExist|InvalidGroup\.NotFound|ParameterNotFound/.test(name)
}

/** The reason text of a failed SDK call, as CloudFormation shows it: the service's message with its code. */
export function reasonOf(error: unknown): string {
  const e = error as {name?: string; message?: string; $metadata?: {httpStatusCode?: number; requestId?: string}}
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined) {
    return `${e.message} (Service: ${e.name ?? 'Unknown'}; Status Code: ${status}; Error Code: ${e.name}; Request ID: ${e.$metadata?.requestId ?? ''})`
  }
  return e.message ?? String(error)
}

export const str = (value: unknown): string | undefined => (value === undefined || value === null ? undefined : String(value))
export const json = (value: unknown): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value)
export const tagList = (value: unknown): {Key: string; Value: string}[] | undefined =>
  Array.isArray(value) ? value.map((tag) => ({Key: String(tag.Key), Value: String(tag.Value)})) : undefined
