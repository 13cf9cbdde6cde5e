/**
 * Parameter Store: String, StringList and SecureString parameters with their
 * versions (up to 100 kept), labels, tiers, allowed patterns, descriptions and
 * tags, per region. SecureString values are really encrypted (AES-256-GCM with
 * a key kept 0600 in the service's folder); a read without WithDecryption gets
 * the ciphertext, as AWS answers.
 */
import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {ACCOUNT_ID} from '../../types.js'
import * as errors from './errors.js'

export type ParameterType = 'String' | 'StringList' | 'SecureString'
export type Tier = 'Standard' | 'Advanced' | 'Intelligent-Tiering'

export interface ParameterVersion {
  Version: number
  Type: ParameterType
  /** Plain text for String/StringList; the ciphertext (base64) for SecureString. */
  Value: string
  KeyId?: string
  Description?: string
  AllowedPattern?: string
  Tier: 'Standard' | 'Advanced'
  DataType: string
  Labels: string[]
  LastModifiedDate: number
  LastModifiedUser: string
}

export interface ParameterRecord {
  Name: string
  Region: string
  Versions: ParameterVersion[]
  Tags: {Key: string; Value: string}[]
}

const NAME = /^[a-zA-Z0-9_.\-/]+$/
const MAX_VERSIONS = 100
const DEFAULT_KEY = 'alias/aws/ssm'

export const parameterArn = (region: string, name: string) =>
  `arn:aws:ssm:${region}:${ACCOUNT_ID}:parameter${name.startsWith('/') ? '' : '/'}${name}`

/** A name, or the ARN of one, as the parameter is stored. */
export function nameOf(nameOrArn: string): string {
  const match = /^arn:aws[\w-]*:ssm:[^:]*:\d{12}:parameter(\/.*)$/.exec(nameOrArn)
  if (!match) return nameOrArn
  // ARNs of names without a leading slash carry one: parameter/name.
  return match[1]!.split('/').length === 2 ? match[1]!.slice(1) : match[1]!
}

export function validateName(name: string): void {
  if (name.length === 0 || name.length > 2048) {
    throw errors.validation(`Parameter name must be between 1 and 2048 characters: ${name.slice(0, 64)}`)
  }
  if (!NAME.test(name)) {
    throw errors.validation(
      `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_. Got: ${name}`,
    )
  }
  const bare = name.replace(/^\//, '').toLowerCase()
  if (bare.startsWith('aws') || bare.startsWith('ssm')) {
    throw errors.validation(`No access to reserved parameter name: ${name}.`)
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw errors.validation(`Parameter name must be a fully qualified name: a name with a slash must begin with one. Got: ${name}`)
  }
  if (name.split('/').length - 1 > 15) {
    throw errors.hierarchyLevelLimitExceeded(
      `A hierarchy can have a maximum of 15 levels. Parameter name ${name} has ${name.split('/').length - 1}.`,
    )
  }
}

export function validateLabel(label: string): boolean {
  if (label.length < 1 || label.length > 100) return false
  if (/^\d/.test(label) || /^(aws|ssm)/i.test(label)) return false
  return /^[a-zA-Z0-9_.-]+$/.test(label)
}

export class ParameterStore {
  constructor(
    private readonly records: Record<string, ParameterRecord>,
    private readonly key: Buffer,
  ) {}

  private static keyOf(region: string, name: string) {
    return `${region}\u0000${name}`
  }

  get(region: string, name: string): ParameterRecord | undefined {
    return this.records[ParameterStore.keyOf(region, nameOf(name))]
  }

  all(region: string): ParameterRecord[] {
    return Object.values(this.records)
      .filter((record) => record.Region === region)
      .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.from('ncap1'), iv, cipher.getAuthTag(), body]).toString('base64')
  }

  decrypt(stored: string): string {
    const raw = Buffer.from(stored, 'base64')
    const iv = raw.subarray(5, 17)
    const tag = raw.subarray(17, 33)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(raw.subarray(33)), decipher.final()]).toString('utf8')
  }

  /** The value as a read returns it: SecureString plain only with decryption. */
  valueOf(version: ParameterVersion, decrypt: boolean): string {
    return version.Type === 'SecureString' && decrypt ? this.decrypt(version.Value) : version.Value
  }

  put(
    region: string,
    input: {
      Name: string
      Value: string
      Type?: string
      Description?: string
      KeyId?: string
      Overwrite?: boolean
      AllowedPattern?: string
      Tags?: {Key: string; Value: string}[]
      Tier?: string
      DataType?: string
      Policies?: string
    },
    user: string,
    now: number,
  ): {Version: number; Tier: string} {
    const name = nameOf(input.Name)
    validateName(name)
    const existing = this.get(region, name)
    const type = (input.Type ?? existing?.Versions.at(-1)?.Type) as ParameterType | undefined
    if (!type) throw errors.validation('A parameter type is required when you create a parameter.')
    if (!['String', 'StringList', 'SecureString'].includes(type)) {
      throw errors.unsupportedParameterType(`The parameter type ${type} is not supported: use String, StringList or SecureString.`)
    }
    if (input.Value.length === 0) throw errors.validation('1 validation error detected: Value must have length greater than or equal to 1')
    if (existing && !input.Overwrite) {
      throw errors.parameterAlreadyExists(
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      )
    }
    if (existing && input.Tags?.length) {
      throw errors.validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      )
    }
    if (input.KeyId && type !== 'SecureString') throw errors.validation('KeyId is required for SecureString type parameter only.')
    const dataType = input.DataType ?? 'text'
    if (!['text', 'aws:ec2:image', 'aws:ssm:integration'].includes(dataType)) {
      throw errors.validation(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`)
    }
    if (dataType === 'aws:ec2:image' && !/^ami-[0-9a-f]{8,17}$/.test(input.Value)) {
      throw errors.validation(`The value ${input.Value} is not a valid image id for data type aws:ec2:image.`)
    }
    if (input.AllowedPattern !== undefined) {
      let pattern: RegExp
      try {
        pattern = new RegExp(input.AllowedPattern)
      } catch {
        throw errors.invalidAllowedPattern(`The allowed pattern ${input.AllowedPattern} is not a valid regular expression.`)
      }
      if (!pattern.test(input.Value)) {
        throw errors.parameterPatternMismatch(`Parameter value, cannot be validated against allowedPattern: ${input.AllowedPattern}`)
      }
    }
    const previousTier = existing?.Versions.at(-1)?.Tier
    let tier: 'Standard' | 'Advanced'
    const asked = input.Tier ?? 'Standard'
    if (!['Standard', 'Advanced', 'Intelligent-Tiering'].includes(asked)) {
      throw errors.validation(
        `1 validation error detected: Value '${asked}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]`,
      )
    }
    if (asked === 'Intelligent-Tiering')
      tier = input.Value.length > 4096 || input.Policies || previousTier === 'Advanced' ? 'Advanced' : 'Standard'
    else tier = asked as 'Standard' | 'Advanced'
    if (tier === 'Standard' && previousTier === 'Advanced') {
      throw errors.validation(
        `This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. Parameter: ${name}`,
      )
    }
    const limit = tier === 'Advanced' ? 8192 : 4096
    if (input.Value.length > limit) {
      throw errors.validation(
        tier === 'Standard'
          ? `Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`
          : `Advanced tier parameters support a maximum parameter value of 8192 characters.`,
      )
    }
    if (input.Policies && tier !== 'Advanced')
      throw errors.validation('Parameter policies are supported only for advanced-tier parameters.')
    // A path segment that is already a parameter cannot also be a folder of others, and the reverse (HierarchyTypeMismatch is for type changes on AWS; these are plain conflicts).
    const record: ParameterRecord = existing ?? {Name: name, Region: region, Versions: [], Tags: input.Tags ?? []}
    const last = record.Versions.at(-1)
    if (last && record.Versions.length >= MAX_VERSIONS) {
      const oldest = record.Versions[0]!
      if (oldest.Labels.length > 0) {
        throw errors.parameterMaxVersionLimitExceeded(
          `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest.Version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
        )
      }
      record.Versions.shift()
    }
    const version: ParameterVersion = {
      Version: (last?.Version ?? 0) + 1,
      Type: type,
      Value: type === 'SecureString' ? this.encrypt(input.Value) : input.Value,
      ...(type === 'SecureString' ? {KeyId: input.KeyId ?? last?.KeyId ?? DEFAULT_KEY} : {}),
      ...(input.Description !== undefined
        ? {Description: input.Description}
        : last?.Description !== undefined
          ? {Description: last.Description}
          : {}),
      ...(input.AllowedPattern !== undefined
        ? {AllowedPattern: input.AllowedPattern}
        : last?.AllowedPattern !== undefined
          ? {AllowedPattern: last.AllowedPattern}
          : {}),
      Tier: tier,
      DataType: dataType,
      Labels: [],
      LastModifiedDate: now,
      LastModifiedUser: user,
    }
    record.Versions.push(version)
    this.records[ParameterStore.keyOf(region, name)] = record
    return {Version: version.Version, Tier: tier}
  }

  /** A parameter by `name`, `name:version` or `name:label` (or their ARNs). */
  select(region: string, reference: string): {record: ParameterRecord; version: ParameterVersion; selector?: string} {
    let name = reference
    let selector: string | undefined
    const arnPrefix = /^arn:[^:]+:ssm:[^:]*:\d{12}:parameter/.exec(reference)?.[0] ?? ''
    const tail = reference.slice(arnPrefix.length)
    const colon = tail.lastIndexOf(':')
    if (colon > 0) {
      name = arnPrefix + tail.slice(0, colon)
      selector = tail.slice(colon + 1)
    }
    const record = this.get(region, name)
    if (!record) throw errors.parameterNotFound(`Parameter ${nameOf(name)} not found.`)
    if (selector === undefined) return {record, version: record.Versions.at(-1)!}
    const version = /^\d+$/.test(selector)
      ? record.Versions.find((candidate) => candidate.Version === Number(selector))
      : record.Versions.find((candidate) => candidate.Labels.includes(selector!))
    if (!version) {
      throw errors.parameterVersionNotFound(
        `Systems Manager could not find version ${selector} of ${record.Name}. Verify the version and try again.`,
      )
    }
    return {record, version, selector: `:${selector}`}
  }

  delete(region: string, name: string): void {
    const record = this.get(region, name)
    if (!record) throw errors.parameterNotFound(`Parameter ${nameOf(name)} not found.`)
    delete this.records[ParameterStore.keyOf(region, record.Name)]
  }

  label(region: string, name: string, versionNumber: number | undefined, labels: string[]): {invalid: string[]; version: number} {
    const record = this.get(region, name)
    if (!record) throw errors.parameterNotFound(`Parameter ${nameOf(name)} not found.`)
    const version = versionNumber === undefined ? record.Versions.at(-1)! : record.Versions.find((v) => v.Version === versionNumber)
    if (!version) {
      throw errors.parameterVersionNotFound(
        `Systems Manager could not find version ${versionNumber} of ${record.Name}. Verify the version and try again.`,
      )
    }
    const invalid = labels.filter((label) => !validateLabel(label))
    const valid = labels.filter((label) => validateLabel(label))
    const merged = new Set([...version.Labels, ...valid])
    if (merged.size > 10) {
      throw errors.parameterVersionLabelLimitExceeded(
        'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.',
      )
    }
    for (const other of record.Versions) if (other !== version) other.Labels = other.Labels.filter((label) => !valid.includes(label))
    version.Labels = [...merged]
    return {invalid, version: version.Version}
  }

  unlabel(region: string, name: string, versionNumber: number, labels: string[]): {removed: string[]; invalid: string[]} {
    const record = this.get(region, name)
    if (!record) throw errors.parameterNotFound(`Parameter ${nameOf(name)} not found.`)
    const version = record.Versions.find((v) => v.Version === versionNumber)
    if (!version) {
      throw errors.parameterVersionNotFound(
        `Systems Manager could not find version ${versionNumber} of ${record.Name}. Verify the version and try again.`,
      )
    }
    const removed = labels.filter((label) => version.Labels.includes(label))
    version.Labels = version.Labels.filter((label) => !labels.includes(label))
    return {removed, invalid: labels.filter((label) => !removed.includes(label))}
  }
}
