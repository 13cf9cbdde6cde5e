/**
 * Logical ids and physical names. Both are derived from the config's names only
 * (never from order-dependent counters where avoidable), so the same config gives
 * the same template byte for byte.
 */
import {createHash} from 'node:crypto'

/** A short, stable hex digest of a string. */
export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

/** 'carcealab2' -> 'Carcealab2', 'lab-a.b' -> 'LabAB': alphanumeric, each word capitalised. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
}

const MAX_LOGICAL_ID = 255
/** Room left for a suffix such as 'PasswordSecret' after a user's or group's id. */
const ID_ROOM = 200

/**
 * Hands out logical ids for named things of one kind ('Group', 'User'). Names
 * that collapse to the same id (differing only in punctuation or case) keep the
 * plain id for the first seen and get a hash suffix for the others.
 */
export class LogicalIds {
  private readonly byName = new Map<string, string>()
  private readonly taken = new Set<string>()

  constructor(
    private readonly prefix: string,
    /** Suffixes the caller appends to these ids: a base id ending in one gets a hash suffix instead. */
    private readonly reservedSuffixes: readonly string[] = [],
  ) {}

  idFor(name: string): string {
    const known = this.byName.get(name)
    if (known !== undefined) return known
    let id = this.prefix + pascal(name)
    if (id.length > ID_ROOM) id = id.slice(0, ID_ROOM - 9) + shortHash(name)
    if (id === this.prefix || this.taken.has(id) || this.reservedSuffixes.some((suffix) => id.endsWith(suffix))) {
      id = `${id}${shortHash(name)}`
    }
    this.byName.set(name, id)
    this.taken.add(id)
    if (id.length > MAX_LOGICAL_ID) throw new Error(`logical id too long: ${id}`)
    return id
  }
}

/**
 * A physical name within a service's length limit: names that fit are kept, longer
 * ones are cut and end with a hash of the whole name so they stay unique.
 */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name
  const hash = shortHash(name)
  return `${name.slice(0, max - hash.length - 1)}-${hash}`
}

/**
 * Lambda function names: at most 64 characters of [A-Za-z0-9_-]. A bucket name's
 * dots become dashes, with a hash of the real name so 'a.b' and 'a-b' stay apart.
 */
export function functionName(pipelineName: string, role: string): string {
  const safe = pipelineName.replace(/[^A-Za-z0-9_-]/g, '-')
  const stem = safe === pipelineName ? safe : `${safe}-${shortHash(pipelineName, 6)}`
  return fitName(`${stem}-${role}`, 64)
}

/** IAM group names: at most 128 characters. */
export function iamGroupName(pipelineName: string, groupName: string): string {
  return fitName(`${pipelineName}-${groupName}`, 128)
}

/**
 * Prefix of the EventBridge rules the submit handler creates per job (rule names
 * are at most 64 characters, so a long bucket name is cut and hashed to leave
 * room for the job's timestamp).
 */
export function jobRulePrefix(bucket: string): string {
  return fitName(`job__${bucket}`, 40)
}
