/**
 * The IAM account's data as it is persisted (`${stateDir}/iam/state.json`),
 * and the id, key and name rules IAM applies. Maps are keyed by the
 * lower-cased name because IAM names are unique regardless of case.
 */
import {randomBytes, randomInt} from 'node:crypto'
import {validationError} from './errors.js'

export interface AccessKeyRecord {
  AccessKeyId: string
  SecretAccessKey: string
  Status: 'Active' | 'Inactive'
  CreateDate: string
}

export interface LoginProfileRecord {
  CreateDate: string
  PasswordResetRequired: boolean
  /** The password itself: the state file is 0600 and holds access key secrets too. */
  Password: string
}

export interface TagRecord {
  Key: string
  Value: string
}

/** An X.509 certificate a user signs SOAP-era requests with (UploadSigningCertificate). */
export interface SigningCertificateRecord {
  CertificateId: string
  CertificateBody: string
  Status: 'Active' | 'Inactive'
  UploadDate: string
}

/** What users, groups and roles share: inline policies by name and attached managed policy ARNs. */
export interface PolicyHolder {
  InlinePolicies: Record<string, string>
  AttachedPolicyArns: string[]
}

export interface UserRecord extends PolicyHolder {
  UserName: string
  UserId: string
  Arn: string
  Path: string
  CreateDate: string
  /** Lower-cased names of the groups the user belongs to, in joining order. */
  Groups: string[]
  AccessKeys: AccessKeyRecord[]
  LoginProfile?: LoginProfileRecord
  Tags?: TagRecord[]
  /** The managed policy ARN that caps what the user's policies allow. */
  PermissionsBoundary?: string
  SigningCertificates?: SigningCertificateRecord[]
}

export interface GroupRecord extends PolicyHolder {
  GroupName: string
  GroupId: string
  Arn: string
  Path: string
  CreateDate: string
}

export interface RoleRecord extends PolicyHolder {
  RoleName: string
  RoleId: string
  Arn: string
  Path: string
  CreateDate: string
  AssumeRolePolicyDocument: string
  Description?: string
  MaxSessionDuration: number
  Tags?: TagRecord[]
  /** The managed policy ARN that caps what the role's policies allow. */
  PermissionsBoundary?: string
  /** When a session for the role was last issued, and where. */
  LastUsed?: {LastUsedDate: string; Region: string}
}

export interface PolicyVersionRecord {
  VersionId: string
  Document: string
  CreateDate: string
}

export interface ManagedPolicyRecord {
  PolicyName: string
  PolicyId: string
  Arn: string
  Path: string
  Description?: string
  CreateDate: string
  UpdateDate: string
  DefaultVersionId: string
  Versions: PolicyVersionRecord[]
  /** The next version number to hand out (v1, v2, …; numbers are never reused). */
  NextVersion: number
  Tags?: TagRecord[]
}

export interface InstanceProfileRecord {
  InstanceProfileName: string
  InstanceProfileId: string
  Arn: string
  Path: string
  CreateDate: string
  /** Lower-cased role names (IAM allows one role per profile). */
  Roles: string[]
  Tags?: TagRecord[]
}

/** Temporary credentials from STS, kept so that a restart does not invalidate them. */
export interface SessionRecord {
  AccessKeyId: string
  SecretAccessKey: string
  SessionToken: string
  /** Epoch milliseconds. */
  Expiration: number
  /** AssumeRole sessions name their role; GetSessionToken sessions their user. */
  RoleName?: string
  RoleSessionName?: string
  UserName?: string
  /** AssumeRole's session policies (inline Policy text, PolicyArns): they narrow what the role's own policies allow. */
  SessionPolicy?: string
  SessionPolicyArns?: string[]
}

export interface IamData {
  users: Record<string, UserRecord>
  groups: Record<string, GroupRecord>
  roles: Record<string, RoleRecord>
  policies: Record<string, ManagedPolicyRecord>
  instanceProfiles: Record<string, InstanceProfileRecord>
  sessions: Record<string, SessionRecord>
}

/**
 * A name-keyed map without a prototype: IAM names such as `constructor` or `__proto__` are valid
 * and must be plain keys, never Object's members.
 */
export function dict<T>(from: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from)
}

/** The state as loaded (or empty), every map without a prototype. */
export function iamData(loaded: Partial<IamData> = {}): IamData {
  const holders = <T extends PolicyHolder>(records: Record<string, T> = {}) => {
    for (const record of Object.values(records)) record.InlinePolicies = dict(record.InlinePolicies)
    return dict(records)
  }
  return {
    ...loaded,
    users: holders(loaded.users),
    groups: holders(loaded.groups),
    roles: holders(loaded.roles),
    policies: dict(loaded.policies),
    instanceProfiles: dict(loaded.instanceProfiles),
    sessions: dict(loaded.sessions),
  } as IamData
}

export const emptyData = (): IamData => iamData()

export const nameKey = (name: string) => name.toLowerCase()

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function randomText(length: number, alphabet: string): string {
  let out = ''
  for (let index = 0; index < length; index++) out += alphabet[randomInt(alphabet.length)]
  return out
}

/** Unique ids: a four-letter prefix naming the kind (AIDA user, AGPA group, AROA role, ANPA policy, AIPA profile) and 17 more: 21 in all. */
export const newUniqueId = (prefix: 'AIDA' | 'AGPA' | 'AROA' | 'ANPA' | 'AIPA') => prefix + randomText(17, ID_ALPHABET)

/** Access key ids: AKIA (long-term) or ASIA (temporary) and 16 more: 20 in all. */
export const newAccessKeyId = (prefix: 'AKIA' | 'ASIA') => prefix + randomText(16, ID_ALPHABET)

/** 40-character secret access keys, from the base64 alphabet as AWS's are. */
export const newSecretAccessKey = () => randomBytes(30).toString('base64')

export const newSessionToken = () => `IQoJb3JpZ2luX2Vj${randomBytes(180).toString('base64')}`

/** IAM writes dates as ISO 8601 with seconds (2024-01-02T03:04:05Z). */
export const isoNow = (now = new Date()) => now.toISOString().replace(/\.\d{3}Z$/, 'Z')

const NAME_PATTERN = /^[\w+=,.@-]+$/
const PATH_PATTERN = /^\/$|^\/[\u0021-\u007e]+\/$/

/** Checks an entity name against IAM's pattern and length limits (ValidationError otherwise). */
export function checkName(member: string, value: string, maxLength: number): string {
  if (value.length < 1 || value.length > maxLength) {
    throw validationError(member, value, `Member must have length less than or equal to ${maxLength}`)
  }
  if (!NAME_PATTERN.test(value)) throw validationError(member, value, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+')
  return value
}

export function checkPath(value: string | undefined, member = 'path'): string {
  const path = value ?? '/'
  if (path.length > 512 || !PATH_PATTERN.test(path)) {
    throw validationError(member, path, 'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)')
  }
  return path
}

/** Pagination as IAM does it: MaxItems (1–1000, default 100) and an opaque Marker. */
export function paginate<T>(
  items: T[],
  marker: string | undefined,
  maxItemsText: string | undefined,
): {page: T[]; IsTruncated: boolean; Marker?: string} {
  let maxItems = 100
  if (maxItemsText !== undefined) {
    maxItems = Number(maxItemsText)
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
      throw validationError('maxItems', maxItemsText, 'Member must have value between 1 and 1000')
    }
  }
  let start = 0
  if (marker !== undefined) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'))
    if (!Number.isInteger(start) || start < 0) throw validationError('marker', marker, 'Member must be a marker this service returned')
  }
  const page = items.slice(start, start + maxItems)
  const next = start + maxItems
  return next < items.length
    ? {page, IsTruncated: true, Marker: Buffer.from(String(next)).toString('base64url')}
    : {page, IsTruncated: false}
}
