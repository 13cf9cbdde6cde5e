/**
 * Tags on users, roles, customer managed policies and instance profiles
 * (Tag*, Untag*, List*Tags, and the Tags member of the Create calls), and
 * permissions boundaries (PermissionsBoundary on CreateUser/CreateRole and
 * Put/Delete*PermissionsBoundary), with IAM's limits and wording.
 */
import {ACCOUNT_ID} from '../../types.js'
import {invalidInput, limitExceeded, noSuchEntity, validationError} from './errors.js'
import type {ManagedPolicyRecord, TagRecord} from './model.js'
import type {IamState} from './state.js'

export type Taggable = 'user' | 'role' | 'policy' | 'instance profile'

/** IAM allows 50 tags per resource. */
const TAGS_PER_RESOURCE = 50
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u

/** Checks a list of tags as IAM does (lengths, characters, keys unique regardless of case). */
export function checkTags(tags: readonly TagRecord[], member = 'tags'): TagRecord[] {
  const seen = new Set<string>()
  tags.forEach((tag, index) => {
    const at = `${member}.${index + 1}.member`
    if (tag.Key === undefined || tag.Key.length < 1 || tag.Key.length > 128)
      throw validationError(`${at}.key`, tag.Key ?? 'null', 'Member must have length less than or equal to 128')
    if (!TAG_KEY.test(tag.Key))
      throw validationError(`${at}.key`, tag.Key, 'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+')
    if (tag.Value === undefined) throw validationError(`${at}.value`, 'null', 'Member must not be null')
    if (tag.Value.length > 256) throw validationError(`${at}.value`, tag.Value, 'Member must have length less than or equal to 256')
    if (!TAG_VALUE.test(tag.Value))
      throw validationError(`${at}.value`, tag.Value, 'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*')
    const key = tag.Key.toLowerCase()
    if (seen.has(key)) throw invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.')
    seen.add(key)
  })
  if (tags.length > TAGS_PER_RESOURCE) throw limitExceeded('The number of tags has reached the maximum limit.')
  return tags.map((tag) => ({Key: tag.Key, Value: tag.Value}))
}

function customerPolicyOf(state: IamState, arn: string): ManagedPolicyRecord {
  const policy = state.data.policies[arn]
  if (!policy) {
    if (arn.startsWith('arn:aws:iam::aws:') || !arn.startsWith(`arn:aws:iam::${ACCOUNT_ID}:`))
      throw invalidInput(`Policy ${arn} is not a customer managed policy of this account; only those can be tagged.`)
    throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`)
  }
  return policy
}

/** The record holding a resource's tags. */
function holderOf(state: IamState, kind: Taggable, name: string): {Tags?: TagRecord[]} {
  switch (kind) {
    case 'user':
      return state.user(name)
    case 'role':
      return state.role(name)
    case 'policy':
      return customerPolicyOf(state, name)
    default:
      return state.instanceProfile(name)
  }
}

/** Adds tags, replacing the value of a key already there (keys compare regardless of case, the new spelling kept). */
export function tagResource(state: IamState, kind: Taggable, name: string, tags: readonly TagRecord[]): void {
  const holder = holderOf(state, kind, name)
  const merged = [...(holder.Tags ?? [])]
  for (const tag of checkTags(tags)) {
    const index = merged.findIndex((existing) => existing.Key.toLowerCase() === tag.Key.toLowerCase())
    if (index >= 0) merged[index] = tag
    else merged.push(tag)
  }
  if (merged.length > TAGS_PER_RESOURCE) throw limitExceeded('The number of tags has reached the maximum limit.')
  holder.Tags = merged
}

export function untagResource(state: IamState, kind: Taggable, name: string, keys: readonly string[]): void {
  if (keys.length > TAGS_PER_RESOURCE)
    throw validationError('tagKeys', String(keys.length), 'Member must have length less than or equal to 50')
  const holder = holderOf(state, kind, name)
  const dropping = new Set(keys.map((key) => key.toLowerCase()))
  holder.Tags = (holder.Tags ?? []).filter((tag) => !dropping.has(tag.Key.toLowerCase()))
}

export function listTags(state: IamState, kind: Taggable, name: string): TagRecord[] {
  return [...(holderOf(state, kind, name).Tags ?? [])]
}

/** A boundary must be an existing managed policy (customer or AWS managed). */
export function checkBoundary(state: IamState, arn: string): string {
  if (!arn.startsWith('arn:')) throw invalidInput(`ARN ${arn} is not valid.`)
  const policy = state.findPolicy(arn)
  if (!policy) throw noSuchEntity(`Scope ARN: ${arn} does not exist or is not attachable.`)
  return policy.Arn
}

export function putBoundary(state: IamState, kind: 'user' | 'role', name: string, arn: string): void {
  const holder = kind === 'user' ? state.user(name) : state.role(name)
  holder.PermissionsBoundary = checkBoundary(state, arn)
}

export function deleteBoundary(state: IamState, kind: 'user' | 'role', name: string): void {
  const holder = kind === 'user' ? state.user(name) : state.role(name)
  delete holder.PermissionsBoundary
}

/** The PermissionsBoundary member of a user or role, as IAM returns it. */
export const boundaryView = (arn: string | undefined) =>
  arn === undefined ? {} : {PermissionsBoundary: {PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: arn}}

/** How many users and roles use a managed policy as their boundary. */
export function boundaryUsageCount(state: IamState, arn: string): number {
  let count = 0
  for (const holder of [...Object.values(state.data.users), ...Object.values(state.data.roles)])
    if (holder.PermissionsBoundary === arn) count++
  return count
}

export const tagsView = (tags: readonly TagRecord[] | undefined) => (tags && tags.length > 0 ? {Tags: tags} : {})
