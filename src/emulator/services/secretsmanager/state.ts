/**
 * Secrets Manager's behaviour and data, with no HTTP: secrets by region and
 * name, their versions and staging labels (AWSCURRENT, AWSPREVIOUS, custom),
 * scheduled deletion on the emulator's clock, tags and resource policies.
 * Persisted one file per secret, `${stateDir}/secretsmanager/<region>/<sha256
 * of the name>.json` (mode 0600: it holds the secret values), written
 * atomically and durably after every change to that secret, so a write costs
 * what its own secret weighs, however many others there are.
 */
import {createHash, randomInt, randomUUID} from 'node:crypto'
import {readdir, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {isTempName, syncFolder, writeJsonAtomic} from '../../../store/atomic.js'
import {PolicyDocumentError, parsePolicyDocument, statementsOf} from '../../policy/document.js'
import {ACCOUNT_ID} from '../../types.js'
import {
  invalidNextToken,
  invalidParameter,
  invalidRequest,
  limitExceeded,
  malformedPolicy,
  markedForDeletion,
  publicPolicy,
  resourceExists,
  resourceNotFound,
} from './errors.js'

export const CURRENT = 'AWSCURRENT'
export const PREVIOUS = 'AWSPREVIOUS'

export interface Tag {
  Key: string
  Value: string
}

export interface VersionRecord {
  VersionId: string
  SecretString?: string
  /** Base64 of the bytes, as the JSON wire carries blobs. */
  SecretBinary?: string
  Stages: string[]
  /** Epoch milliseconds. */
  CreatedDate: number
  LastAccessedDate?: number
}

export interface SecretRecord {
  ARN: string
  Name: string
  Region: string
  Description?: string
  KmsKeyId?: string
  Tags: Tag[]
  CreatedDate: number
  LastChangedDate: number
  LastAccessedDate?: number
  /** When DeleteSecret ran (DescribeSecret's DeletedDate)… */
  DeletedDate?: number
  /** …and when the secret goes for good (DeleteSecret's DeletionDate). */
  DeletionDate?: number
  ResourcePolicy?: string
  /** Oldest first. Versions without a label are deprecated; AWS keeps about 100 of them. */
  Versions: VersionRecord[]
}

interface SecretsData {
  /** By region, then by name. */
  regions: Record<string, Record<string, SecretRecord>>
}

export interface SecretValueInput {
  SecretString?: string
  SecretBinary?: string
}

/** Deprecated (unlabelled) versions kept per secret before the oldest are dropped. */
const DEPRECATED_KEPT = 100
const STAGES_PER_VERSION = 20
const TAGS_PER_SECRET = 50
const SECRET_VALUE_LIMIT = 65_536
const NAME_PATTERN = /^[a-zA-Z0-9/_+=.@-]{1,512}$/
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** The six random characters AWS appends to a secret's ARN so a re-created name gets a new ARN. */
function arnSuffix(): string {
  let out = ''
  for (let index = 0; index < 6; index++) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]
  return out
}

/** AWS truncates LastAccessedDate to the day (UTC midnight). */
const day = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000

export class SecretsState {
  /** Per secret file, its latest write: writes of one secret land in order, those of different secrets at once. */
  private readonly writes = new Map<string, Promise<void>>()
  /** Secrets scheduled for deletion (region → names): purgeDue looks at these, not at every secret. */
  private readonly scheduled = new Map<string, Set<string>>()
  /** Secrets changed since the last save, as [region, name]. */
  private readonly dirty = new Map<string, [string, string]>()

  private constructor(
    readonly stateDir: string,
    readonly data: SecretsData,
    readonly now: () => number,
  ) {
    for (const [region, secrets] of Object.entries(data.regions))
      for (const secret of Object.values(secrets)) if (secret.DeletionDate !== undefined) this.schedule(region, secret.Name, true)
  }

  private schedule(region: string, name: string, on: boolean): void {
    const names = this.scheduled.get(region)
    if (!on) names?.delete(name)
    else if (names) names.add(name)
    else this.scheduled.set(region, new Set([name]))
  }

  static folderOf(stateDir: string): string {
    return join(stateDir, 'secretsmanager')
  }

  /** The file one secret lives in (names may hold '/', so the file is named by the name's hash). */
  static fileOf(stateDir: string, region: string, name: string): string {
    return join(SecretsState.folderOf(stateDir), region, `${createHash('sha256').update(name).digest('hex')}.json`)
  }

  static async open(stateDir: string, now: () => number): Promise<SecretsState> {
    const data: SecretsData = {regions: {}}
    const root = SecretsState.folderOf(stateDir)
    const regions = await readdir(root, {withFileTypes: true}).catch(() => [])
    for (const region of regions) {
      if (!region.isDirectory()) continue
      const secrets: Record<string, SecretRecord> = Object.create(null)
      for (const name of await readdir(join(root, region.name))) {
        if (isTempName(name) || !name.endsWith('.json')) continue
        const secret = JSON.parse(await readFile(join(root, region.name, name), 'utf8')) as SecretRecord
        secrets[secret.Name] = secret
      }
      data.regions[region.name] = secrets
    }
    return new SecretsState(stateDir, data, now)
  }

  /** Notes that a secret changed (or went): the next save writes (or removes) its file. */
  mark(secret: SecretRecord): void {
    this.dirty.set(`${secret.Region}\n${secret.Name}`, [secret.Region, secret.Name])
  }

  /**
   * Writes every changed secret durably (temp file, fsync, rename; removal then folder fsync). Writes of
   * one secret are serialized; different secrets are written at once, so their folder fsyncs are shared.
   */
  save(): Promise<void> {
    const changed = [...this.dirty.values()]
    this.dirty.clear()
    return Promise.all(changed.map(([region, name]) => this.write(region, name))).then(() => undefined)
  }

  private write(region: string, name: string): Promise<void> {
    const file = SecretsState.fileOf(this.stateDir, region, name)
    const next = (this.writes.get(file) ?? Promise.resolve()).then(async () => {
      const secret = this.data.regions[region]?.[name]
      if (secret) await writeJsonAtomic(file, secret, 0o600)
      else {
        await rm(file, {force: true})
        await syncFolder(join(SecretsState.folderOf(this.stateDir), region)).catch(() => undefined)
      }
    })
    const settled = next.catch(() => undefined)
    this.writes.set(file, settled)
    void settled.then(() => {
      if (this.writes.get(file) === settled) this.writes.delete(file)
    })
    return next
  }

  async flush(): Promise<void> {
    await Promise.all(this.writes.values())
  }

  private region(region: string): Record<string, SecretRecord> {
    this.data.regions[region] ??= Object.create(null)
    return this.data.regions[region]!
  }

  /** Removes secrets whose recovery window has passed; returns those removed (for the event record). */
  purgeDue(region?: string): SecretRecord[] {
    const now = this.now()
    const purged: SecretRecord[] = []
    for (const [name, names] of this.scheduled) {
      if (region !== undefined && name !== region) continue
      const secrets = this.data.regions[name] ?? {}
      for (const key of [...names]) {
        const secret = secrets[key]
        if (secret?.DeletionDate === undefined) names.delete(key)
        else if (secret.DeletionDate <= now) {
          delete secrets[key]
          names.delete(key)
          this.mark(secret)
          purged.push(secret)
        }
      }
    }
    return purged
  }

  /**
   * A secret by name, full ARN (with the six-character suffix) or partial ARN
   * (without it), as every SecretId member accepts.
   */
  find(region: string, secretId: string): SecretRecord | undefined {
    const secrets = this.region(region)
    const named = (name: string) => (Object.hasOwn(secrets, name) ? secrets[name] : undefined)
    if (!secretId.startsWith('arn:')) return named(secretId)
    // An ARN holds the name: `…:secret:<name>-<six characters>` in full, `…:secret:<name>` as a partial ARN.
    const at = secretId.indexOf(':secret:')
    if (at < 0) return undefined
    const tail = secretId.slice(at + ':secret:'.length)
    const full = tail.length > 7 && tail[tail.length - 7] === '-' ? named(tail.slice(0, -7)) : undefined
    if (full?.ARN === secretId) return full
    const partial = named(tail)
    return partial && partial.ARN.length === secretId.length + 7 && partial.ARN.startsWith(`${secretId}-`) ? partial : undefined
  }

  secret(region: string, secretId: string): SecretRecord {
    const secret = this.find(region, secretId)
    if (!secret) throw resourceNotFound()
    return secret
  }

  /** A secret that is not scheduled for deletion (every call but Describe, List, Delete and Restore). */
  live(region: string, secretId: string): SecretRecord {
    const secret = this.secret(region, secretId)
    if (secret.DeletionDate !== undefined) throw markedForDeletion()
    return secret
  }

  /** The ARN a new secret of this name would get (for authorizing CreateSecret before it exists). */
  static arnPattern(region: string, name: string): string {
    return `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-??????`
  }

  create(
    region: string,
    input: SecretValueInput & {
      Name: string
      ClientRequestToken?: string
      Description?: string
      KmsKeyId?: string
      Tags?: Tag[]
    },
  ): {secret: SecretRecord; version?: VersionRecord; repeated?: boolean} {
    const name = input.Name
    if (!NAME_PATTERN.test(name))
      throw invalidParameter(
        `Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@! (got ${name}).`,
      )
    const existing = this.region(region)[name]
    if (existing?.DeletionDate !== undefined)
      throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
    // The same request again (an SDK retry carries the same ClientRequestToken): answered as the first time.
    const same =
      input.ClientRequestToken === undefined ? undefined : existing?.Versions.find((v) => v.VersionId === input.ClientRequestToken)
    if (existing && same && same.SecretString === input.SecretString && same.SecretBinary === input.SecretBinary)
      return {secret: existing, version: same, repeated: true}
    if (existing) throw resourceExists(`The operation failed because the secret ${name} already exists.`)
    checkValue(input)
    const tags = checkTags(input.Tags ?? [])
    const now = this.now()
    const secret: SecretRecord = {
      ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${arnSuffix()}`,
      Name: name,
      Region: region,
      ...(input.Description !== undefined ? {Description: input.Description} : {}),
      ...(input.KmsKeyId !== undefined ? {KmsKeyId: input.KmsKeyId} : {}),
      Tags: tags,
      CreatedDate: now,
      LastChangedDate: now,
      Versions: [],
    }
    let version: VersionRecord | undefined
    if (hasValue(input)) version = this.addVersion(secret, input, input.ClientRequestToken, [CURRENT]).version
    this.region(region)[name] = secret
    this.mark(secret)
    return {secret, version}
  }

  /**
   * A new version with the given labels (AWSCURRENT by default). The same token
   * with the same value is the same request again and changes nothing; the same
   * token with another value is refused, as AWS does.
   */
  addVersion(
    secret: SecretRecord,
    input: SecretValueInput,
    token: string | undefined,
    stages: string[] = [CURRENT],
  ): {version: VersionRecord; repeated: boolean} {
    checkValue(input)
    if (!hasValue(input)) throw invalidRequest('You must provide either SecretString or SecretBinary.')
    if (token !== undefined && (token.length < 32 || token.length > 64))
      throw invalidParameter('ClientRequestToken must be between 32 and 64 characters long.')
    checkStages(stages)
    const versionId = token ?? randomUUID()
    const same = secret.Versions.find((version) => version.VersionId === versionId)
    if (same) {
      if (same.SecretString === input.SecretString && same.SecretBinary === input.SecretBinary) return {version: same, repeated: true}
      throw resourceExists("You can't modify an existing version, you can only create a new version.")
    }
    const now = this.now()
    const version: VersionRecord = {
      VersionId: versionId,
      ...(input.SecretString !== undefined ? {SecretString: input.SecretString} : {}),
      ...(input.SecretBinary !== undefined ? {SecretBinary: input.SecretBinary} : {}),
      Stages: [],
      CreatedDate: now,
    }
    secret.Versions.push(version)
    for (const stage of stages) this.moveStage(secret, stage, version)
    secret.LastChangedDate = now
    this.dropDeprecated(secret)
    this.mark(secret)
    return {version, repeated: false}
  }

  /** Puts a label on a version, taking it off whichever version had it; moving AWSCURRENT leaves AWSPREVIOUS behind. */
  private moveStage(secret: SecretRecord, stage: string, to: VersionRecord): void {
    const from = secret.Versions.find((version) => version !== to && version.Stages.includes(stage))
    if (from) from.Stages = from.Stages.filter((label) => label !== stage)
    if (!to.Stages.includes(stage)) {
      if (to.Stages.length >= STAGES_PER_VERSION)
        throw limitExceeded(`A version can have at most ${STAGES_PER_VERSION} staging labels attached.`)
      to.Stages.push(stage)
    }
    if (stage === CURRENT && from) {
      to.Stages = to.Stages.filter((label) => label !== PREVIOUS)
      this.moveStage(secret, PREVIOUS, from)
    }
  }

  private dropDeprecated(secret: SecretRecord): void {
    const deprecated = secret.Versions.filter((version) => version.Stages.length === 0)
    const excess = deprecated.length - DEPRECATED_KEPT
    if (excess <= 0) return
    const dropped = new Set(deprecated.slice(0, excess))
    secret.Versions = secret.Versions.filter((version) => !dropped.has(version))
  }

  /** The version GetSecretValue reads: by id, by label (AWSCURRENT by default), or both when they agree. */
  version(secret: SecretRecord, versionId?: string, stage?: string): VersionRecord {
    if (versionId !== undefined) {
      const version = secret.Versions.find((candidate) => candidate.VersionId === versionId)
      if (!version || (stage !== undefined && !version.Stages.includes(stage)))
        throw resourceNotFound(
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}${stage !== undefined ? ` and staging label: ${stage}` : ''}`,
        )
      return version
    }
    const label = stage ?? CURRENT
    const version = secret.Versions.find((candidate) => candidate.Stages.includes(label))
    if (!version) throw resourceNotFound(`Secrets Manager can't find the specified secret value for staging label: ${label}`)
    return version
  }

  /** Records a read (AWS keeps only the day). True when that changed what is stored. */
  touch(secret: SecretRecord, version: VersionRecord): boolean {
    const today = day(this.now())
    if (secret.LastAccessedDate === today && version.LastAccessedDate === today) return false
    secret.LastAccessedDate = today
    version.LastAccessedDate = today
    this.mark(secret)
    return true
  }

  update(secret: SecretRecord, input: SecretValueInput & {Description?: string; KmsKeyId?: string; ClientRequestToken?: string}) {
    let version: VersionRecord | undefined
    if (hasValue(input)) version = this.addVersion(secret, input, input.ClientRequestToken).version
    else checkValue(input)
    if (input.Description !== undefined) secret.Description = input.Description
    if (input.KmsKeyId !== undefined) secret.KmsKeyId = input.KmsKeyId
    secret.LastChangedDate = this.now()
    this.mark(secret)
    return version
  }

  updateStage(secret: SecretRecord, input: {VersionStage: string; RemoveFromVersionId?: string; MoveToVersionId?: string}): void {
    const stage = input.VersionStage
    checkStages([stage])
    const versionOf = (id: string) => {
      const version = secret.Versions.find((candidate) => candidate.VersionId === id)
      if (!version) throw resourceNotFound(`Secrets Manager can't find the specified secret version: ${id}.`)
      return version
    }
    const holder = secret.Versions.find((version) => version.Stages.includes(stage))
    const remove = input.RemoveFromVersionId === undefined ? undefined : versionOf(input.RemoveFromVersionId)
    const move = input.MoveToVersionId === undefined ? undefined : versionOf(input.MoveToVersionId)
    if (remove && remove !== holder)
      throw invalidParameter(
        `The staging label ${stage} is not attached to version ${remove.VersionId}, so you can't remove it from that version.`,
      )
    if (move && holder && holder !== move && remove !== holder)
      throw invalidParameter(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      )
    if (!move && stage === CURRENT && remove)
      throw invalidParameter(
        `You can't remove the staging label ${CURRENT} from version ${remove.VersionId} without moving it to another version (MoveToVersionId).`,
      )
    if (move) this.moveStage(secret, stage, move)
    else if (remove) remove.Stages = remove.Stages.filter((label) => label !== stage)
    secret.LastChangedDate = this.now()
    this.dropDeprecated(secret)
    this.mark(secret)
  }

  scheduleDeletion(secret: SecretRecord, input: {RecoveryWindowInDays?: number; ForceDeleteWithoutRecovery?: boolean}): number {
    if (input.RecoveryWindowInDays !== undefined && input.ForceDeleteWithoutRecovery)
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
    const days = input.RecoveryWindowInDays ?? 30
    if (!input.ForceDeleteWithoutRecovery && (!Number.isInteger(days) || days < 7 || days > 30))
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).')
    if (secret.DeletionDate !== undefined && !input.ForceDeleteWithoutRecovery)
      throw invalidRequest("You can't perform this operation on the secret because it was already scheduled for deletion.")
    const now = this.now()
    secret.DeletedDate ??= now
    this.mark(secret)
    if (input.ForceDeleteWithoutRecovery) {
      delete this.region(secret.Region)[secret.Name]
      return now
    }
    secret.DeletionDate = now + days * 86_400_000
    this.schedule(secret.Region, secret.Name, true)
    return secret.DeletionDate
  }

  restore(secret: SecretRecord): void {
    delete secret.DeletedDate
    delete secret.DeletionDate
    this.schedule(secret.Region, secret.Name, false)
    secret.LastChangedDate = this.now()
    this.mark(secret)
  }

  tag(secret: SecretRecord, tags: Tag[]): void {
    const merged = [...secret.Tags]
    for (const tag of checkTags(tags)) {
      const index = merged.findIndex((existing) => existing.Key === tag.Key)
      if (index >= 0) merged[index] = tag
      else merged.push(tag)
    }
    if (merged.length > TAGS_PER_SECRET) throw limitExceeded(`A secret can have at most ${TAGS_PER_SECRET} tags.`)
    secret.Tags = merged
    secret.LastChangedDate = this.now()
    this.mark(secret)
  }

  untag(secret: SecretRecord, keys: string[]): void {
    secret.Tags = secret.Tags.filter((tag) => !keys.includes(tag.Key))
    secret.LastChangedDate = this.now()
    this.mark(secret)
  }

  putPolicy(secret: SecretRecord, policy: string, blockPublic: boolean): void {
    const problem = policyProblem(policy)
    if (problem) throw malformedPolicy(problem)
    if (blockPublic && isPublic(policy))
      throw publicPolicy('The BlockPublicPolicy parameter is set to true, and the resource policy grants broad access to the secret.')
    secret.ResourcePolicy = policy
    secret.LastChangedDate = this.now()
    this.mark(secret)
  }

  deletePolicy(secret: SecretRecord): void {
    delete secret.ResourcePolicy
    secret.LastChangedDate = this.now()
    this.mark(secret)
  }

  /** ListSecrets' selection and order: by CreatedDate unless SortBy names another attribute, ascending unless SortOrder is desc. */
  list(
    region: string,
    options: {IncludePlannedDeletion?: boolean; Filters?: Filter[]; SortOrder?: string; SortBy?: string},
  ): SecretRecord[] {
    const filters = checkFilters(options.Filters ?? [])
    if (options.SortOrder !== undefined && options.SortOrder !== 'asc' && options.SortOrder !== 'desc')
      throw invalidParameter(`SortOrder must be asc or desc; got ${options.SortOrder}.`)
    const keys: Record<string, (secret: SecretRecord) => number | string> = {
      'created-date': (secret) => secret.CreatedDate,
      'last-accessed-date': (secret) => secret.LastAccessedDate ?? 0,
      'last-changed-date': (secret) => secret.LastChangedDate,
      name: (secret) => secret.Name,
    }
    const key = keys[options.SortBy ?? 'created-date']
    if (!key) throw invalidParameter(`SortBy must be one of ${Object.keys(keys).join(', ')}; got ${options.SortBy}.`)
    const compare = (a: SecretRecord, b: SecretRecord) => {
      const left = key(a)
      const right = key(b)
      if (left < right) return -1
      if (left > right) return 1
      return a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0
    }
    const secrets = Object.values(this.region(region))
      .filter((secret) => options.IncludePlannedDeletion || secret.DeletionDate === undefined)
      .filter((secret) => filters.every((filter) => filterMatches(filter, secret)))
      .sort(compare)
    return options.SortOrder === 'desc' ? secrets.reverse() : secrets
  }
}

export interface Filter {
  Key?: string
  Values?: string[]
}

const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/

function checkFilters(filters: Filter[]): Required<Filter>[] {
  return filters.map((filter) => {
    if (filter.Key === undefined || !FILTER_KEYS.includes(filter.Key))
      throw invalidParameter(`Invalid filter key ${filter.Key}; valid keys are ${FILTER_KEYS.join(', ')}.`)
    const values = filter.Values ?? []
    if (values.length < 1 || values.length > 10) throw invalidParameter('A filter must have between 1 and 10 values.')
    for (const value of values)
      if (value.length > 512 || !FILTER_VALUE.test(value)) throw invalidParameter(`Invalid filter value ${value}.`)
    return {Key: filter.Key, Values: values}
  })
}

/** Words as the console search splits them: on case changes, letter/digit changes and punctuation. */
const words = (text: string) => text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []

/** One filter: any of its values matches (a leading ! negates that value); prefix matches, as AWS documents per key. */
function filterMatches(filter: Required<Filter>, secret: SecretRecord): boolean {
  const fields = (key: string): {texts: string[]; caseless: boolean} => {
    switch (key) {
      case 'name':
        return {texts: [secret.Name], caseless: false}
      case 'description':
        return {texts: secret.Description === undefined ? [] : [secret.Description, ...secret.Description.split(/\s+/)], caseless: true}
      case 'tag-key':
        return {texts: secret.Tags.map((tag) => tag.Key), caseless: false}
      case 'tag-value':
        return {texts: secret.Tags.map((tag) => tag.Value), caseless: false}
      case 'primary-region':
        return {texts: [secret.Region], caseless: false}
      case 'owning-service':
        return {texts: [], caseless: false}
      default: {
        const all = [secret.Name, secret.Description ?? '', ...secret.Tags.flatMap((tag) => [tag.Key, tag.Value])]
        return {texts: all.flatMap(words), caseless: true}
      }
    }
  }
  const {texts, caseless} = fields(filter.Key)
  const norm = (text: string) => (caseless ? text.toLowerCase() : text)
  return filter.Values.some((raw) => {
    const negated = raw.startsWith('!')
    const value = negated ? raw.slice(1) : raw
    const hit =
      filter.Key === 'all'
        ? words(value).every((word) => texts.some((text) => norm(text).startsWith(norm(word))))
        : texts.some((text) => norm(text).startsWith(norm(value)))
    return negated ? !hit : hit
  })
}

const hasValue = (input: SecretValueInput) => input.SecretString !== undefined || input.SecretBinary !== undefined

function checkValue(input: SecretValueInput): void {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined)
    throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
  const size =
    input.SecretString !== undefined
      ? Buffer.byteLength(input.SecretString)
      : input.SecretBinary !== undefined
        ? Buffer.from(input.SecretBinary, 'base64').length
        : 0
  if (size > SECRET_VALUE_LIMIT) throw invalidParameter(`The secret value is larger than the ${SECRET_VALUE_LIMIT}-byte limit.`)
}

function checkStages(stages: string[]): void {
  if (stages.length < 1 || stages.length > STAGES_PER_VERSION)
    throw invalidParameter(`VersionStages must list between 1 and ${STAGES_PER_VERSION} staging labels.`)
  for (const stage of stages)
    if (stage.length < 1 || stage.length > 256) throw invalidParameter(`The staging label ${stage} must be 1 to 256 characters long.`)
}

function checkTags(tags: Tag[]): Tag[] {
  for (const tag of tags) {
    if (typeof tag?.Key !== 'string' || tag.Key.length < 1 || tag.Key.length > 128)
      throw invalidParameter('A tag key must be 1 to 128 characters long.')
    if (tag.Key.toLowerCase().startsWith('aws:')) throw invalidParameter('Tag keys beginning with aws: are reserved for AWS use.')
    if (typeof tag.Value !== 'string' || tag.Value.length > 256) throw invalidParameter('A tag value must be at most 256 characters long.')
  }
  return tags.map((tag) => ({Key: tag.Key, Value: tag.Value}))
}

/** Why a resource policy is malformed (it must parse and name a Principal in every statement), or undefined. */
export function policyProblem(policy: string): string | undefined {
  try {
    parsePolicyDocument(policy, 'trust')
    return undefined
  } catch (error) {
    if (error instanceof PolicyDocumentError) return `This resource policy contains a syntax error: ${error.message}`
    throw error
  }
}

/** A policy that allows anyone (Principal "*" or AWS "*") without a condition: what BlockPublicPolicy refuses. */
function isPublic(policy: string): boolean {
  const document = parsePolicyDocument(policy, 'trust')
  return statementsOf(document).some((statement) => {
    if (statement.Effect !== 'Allow' || statement.Condition !== undefined) return false
    const principal = statement.Principal
    if (principal === '*') return true
    const aws = principal?.AWS
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'))
  })
}

/** Pages through a list with an opaque token (the index of the next item). */
export function pageOf<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined, max = 100) {
  const size = maxResults ?? max
  if (!Number.isInteger(size) || size < 1 || size > max) throw invalidParameter(`MaxResults must be between 1 and ${max}.`)
  let start = 0
  if (nextToken !== undefined) {
    start = Number(Buffer.from(nextToken, 'base64url').toString('utf8'))
    if (!Number.isInteger(start) || start < 0 || start > items.length) throw invalidNextToken()
  }
  const end = start + size
  return {
    page: items.slice(start, end),
    ...(end < items.length ? {NextToken: Buffer.from(String(end)).toString('base64url')} : {}),
  }
}
