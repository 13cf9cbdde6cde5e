/**
 * Roles, instance profiles, and the temporary credentials STS issues for a
 * role (AssumeRole) or a user (GetSessionToken).
 */

import {AwsError} from '../../errors.js'
import {conditionMatches} from '../../policy/conditions.js'
import {asList, parsePolicyDocument, statementsOf} from '../../policy/document.js'
import {requestValues} from '../../policy/evaluate.js'
import {actionMatches} from '../../policy/match.js'
import {ACCOUNT_ID, DEFAULT_REGION, type Principal} from '../../types.js'
import {deleteConflict, entityExists, limitExceeded, malformedPolicy, noSuchEntity, validationError} from './errors.js'
import {
  checkName,
  checkPath,
  dict,
  type InstanceProfileRecord,
  isoNow,
  nameKey,
  newAccessKeyId,
  newSecretAccessKey,
  newSessionToken,
  newUniqueId,
  type RoleRecord,
  type SessionRecord,
  type TagRecord,
} from './model.js'
import {checkDocument} from './policies.js'
import type {IamState} from './state.js'
import {boundaryView, checkBoundary, checkTags, tagsView} from './tags.js'

/** IAM returns policy documents URL-encoded (RFC 3986) inside its XML. */
export const encodeDocument = (text: string) => encodeURIComponent(text)

/** A role as IAM returns it; listings leave out the boundary, tags and last use, as AWS's do. */
export const roleView = (role: RoleRecord, full = false) => ({
  Path: role.Path,
  RoleName: role.RoleName,
  RoleId: role.RoleId,
  Arn: role.Arn,
  CreateDate: role.CreateDate,
  AssumeRolePolicyDocument: encodeDocument(role.AssumeRolePolicyDocument),
  ...(role.Description !== undefined ? {Description: role.Description} : {}),
  MaxSessionDuration: role.MaxSessionDuration,
  ...(full ? {...boundaryView(role.PermissionsBoundary), ...tagsView(role.Tags), RoleLastUsed: role.LastUsed ?? {}} : {}),
})

const checkMaxSession = (value: number) => {
  if (!Number.isInteger(value) || value < 3600 || value > 43_200) {
    throw validationError('maxSessionDuration', String(value), 'Member must have value between 3600 and 43200')
  }
  return value
}

const checkDescription = (value: string | undefined) => {
  if (value !== undefined && value.length > 1000)
    throw validationError('description', value, 'Member must have length less than or equal to 1000')
  return value
}

export function createRole(
  state: IamState,
  input: {
    RoleName: string
    AssumeRolePolicyDocument: string
    Path?: string
    Description?: string
    MaxSessionDuration?: number
    PermissionsBoundary?: string
    Tags?: TagRecord[]
  },
) {
  const name = checkName('roleName', input.RoleName, 64)
  const path = checkPath(input.Path)
  const tags = checkTags(input.Tags ?? [])
  const boundary = input.PermissionsBoundary === undefined ? undefined : checkBoundary(state, input.PermissionsBoundary)
  if (state.findRole(name)) throw entityExists('role', name)
  const trust = checkDocument(input.AssumeRolePolicyDocument, 'trust')
  const maxSession = checkMaxSession(input.MaxSessionDuration ?? 3600)
  const role: RoleRecord = {
    RoleName: name,
    RoleId: newUniqueId('AROA'),
    Arn: state.arn('role', path, name),
    Path: path,
    CreateDate: isoNow(state.now()),
    AssumeRolePolicyDocument: trust,
    Description: checkDescription(input.Description),
    MaxSessionDuration: maxSession,
    InlinePolicies: dict(),
    AttachedPolicyArns: [],
    ...(tags.length > 0 ? {Tags: tags} : {}),
    ...(boundary !== undefined ? {PermissionsBoundary: boundary} : {}),
  }
  state.data.roles[nameKey(name)] = role
  return {Role: {...roleView(role), ...boundaryView(role.PermissionsBoundary), ...tagsView(role.Tags)}}
}

/** UpdateRole: the description and the longest session; absent members are left as they are. */
export function updateRole(state: IamState, input: {RoleName: string; Description?: string; MaxSessionDuration?: number}) {
  const role = state.role(input.RoleName)
  if (input.Description !== undefined) role.Description = checkDescription(input.Description)
  if (input.MaxSessionDuration !== undefined) role.MaxSessionDuration = checkMaxSession(input.MaxSessionDuration)
}

export function updateRoleDescription(state: IamState, input: {RoleName: string; Description: string}) {
  const role = state.role(input.RoleName)
  role.Description = checkDescription(input.Description)
  return {Role: roleView(role, true)}
}

export function updateAssumeRolePolicy(state: IamState, input: {RoleName: string; PolicyDocument: string}) {
  const role = state.role(input.RoleName)
  role.AssumeRolePolicyDocument = checkDocument(input.PolicyDocument, 'trust')
}

export function listRoles(state: IamState, input: {PathPrefix?: string}) {
  return Object.values(state.data.roles)
    .filter((role) => role.Path.startsWith(input.PathPrefix ?? '/'))
    .sort((a, b) => nameKey(a.RoleName).localeCompare(nameKey(b.RoleName)))
    .map((role) => roleView(role))
}

export function deleteRole(state: IamState, input: {RoleName: string}) {
  const role = state.role(input.RoleName)
  const key = nameKey(role.RoleName)
  if (Object.values(state.data.instanceProfiles).some((profile) => profile.Roles.includes(key)))
    throw deleteConflict('remove roles from instance profile')
  if (Object.keys(role.InlinePolicies).length > 0) throw deleteConflict('delete policies')
  if (role.AttachedPolicyArns.length > 0) throw deleteConflict('detach all policies')
  delete state.data.roles[key]
}

export function profileView(state: IamState, profile: InstanceProfileRecord, full = false) {
  return {
    ...(full ? tagsView(profile.Tags) : {}),
    Path: profile.Path,
    InstanceProfileName: profile.InstanceProfileName,
    InstanceProfileId: profile.InstanceProfileId,
    Arn: profile.Arn,
    CreateDate: profile.CreateDate,
    Roles: profile.Roles.flatMap((key) => {
      const role = state.data.roles[key]
      return role ? [roleView(role)] : []
    }),
  }
}

export function createInstanceProfile(state: IamState, input: {InstanceProfileName: string; Path?: string; Tags?: TagRecord[]}) {
  const name = checkName('instanceProfileName', input.InstanceProfileName, 128)
  const path = checkPath(input.Path)
  const tags = checkTags(input.Tags ?? [])
  if (state.data.instanceProfiles[nameKey(name)]) throw new AwsError('EntityAlreadyExists', `Instance Profile ${name} already exists.`, 409)
  const profile: InstanceProfileRecord = {
    InstanceProfileName: name,
    InstanceProfileId: newUniqueId('AIPA'),
    Arn: state.arn('instance-profile', path, name),
    Path: path,
    CreateDate: isoNow(state.now()),
    Roles: [],
    ...(tags.length > 0 ? {Tags: tags} : {}),
  }
  state.data.instanceProfiles[nameKey(name)] = profile
  return {InstanceProfile: profileView(state, profile, true)}
}

export function listInstanceProfiles(state: IamState, input: {PathPrefix?: string}) {
  return Object.values(state.data.instanceProfiles)
    .filter((profile) => profile.Path.startsWith(input.PathPrefix ?? '/'))
    .sort((a, b) => nameKey(a.InstanceProfileName).localeCompare(nameKey(b.InstanceProfileName)))
    .map((profile) => profileView(state, profile))
}

export function addRoleToInstanceProfile(state: IamState, input: {InstanceProfileName: string; RoleName: string}) {
  const profile = state.instanceProfile(input.InstanceProfileName)
  const role = state.role(input.RoleName)
  if (profile.Roles.length > 0) throw limitExceeded('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1')
  profile.Roles.push(nameKey(role.RoleName))
}

export function removeRoleFromInstanceProfile(state: IamState, input: {InstanceProfileName: string; RoleName: string}) {
  const profile = state.instanceProfile(input.InstanceProfileName)
  const role = state.role(input.RoleName)
  if (!profile.Roles.includes(nameKey(role.RoleName)))
    throw noSuchEntity(`Role ${role.RoleName} in Instance Profile ${profile.InstanceProfileName} cannot be found.`)
  profile.Roles = profile.Roles.filter((key) => key !== nameKey(role.RoleName))
}

export function deleteInstanceProfile(state: IamState, input: {InstanceProfileName: string}) {
  const profile = state.instanceProfile(input.InstanceProfileName)
  if (profile.Roles.length > 0) throw deleteConflict('remove roles from instance profile')
  delete state.data.instanceProfiles[nameKey(profile.InstanceProfileName)]
}

/** Whether a trust policy's Principal element names the caller (its ARN, its account's root, its account id, or anyone). */
/**
 * How a trust-policy Principal element names the caller: 'direct' (its own ARN, its
 * role, or anyone), 'account' (only its account, which delegates to the account's
 * identity policies), or not at all.
 */
function principalNamed(element: unknown, principal: Principal): 'direct' | 'account' | undefined {
  if (element === '*') return 'direct'
  if (typeof element !== 'object' || element === null) return undefined
  const names = asList((element as Record<string, string | string[]>).AWS)
  const direct = [principal.arn, principal.roleArn].filter((value): value is string => value !== undefined)
  if (names.some((name) => name === '*' || direct.includes(name))) return 'direct'
  const account = [`arn:aws:iam::${principal.accountId}:root`, principal.accountId]
  return names.some((name) => account.includes(name)) ? 'account' : undefined
}

/**
 * Evaluates a role's trust policy for sts:AssumeRole by this principal, as AWS does
 * within one account: an explicit deny refuses; an allow that names the caller
 * directly is enough on its own ('direct'); an allow that names only the account
 * still needs an identity policy allowing sts:AssumeRole ('account').
 */
export function trustDecision(role: RoleRecord, principal: Principal, now: Date): 'direct' | 'account' | 'deny' {
  const document = parsePolicyDocument(role.AssumeRolePolicyDocument, 'trust')
  const values = requestValues(principal, {}, now)
  let allowed: 'direct' | 'account' | undefined
  for (const statement of statementsOf(document)) {
    const actionHit =
      statement.Action !== undefined
        ? asList(statement.Action).some((pattern) => actionMatches(pattern, 'sts:AssumeRole'))
        : !asList(statement.NotAction).some((pattern) => actionMatches(pattern, 'sts:AssumeRole'))
    const named =
      statement.Principal !== undefined
        ? principalNamed(statement.Principal, principal)
        : principalNamed(statement.NotPrincipal, principal) === undefined
          ? 'direct'
          : undefined
    if (!actionHit || named === undefined) continue
    if (statement.Condition && !conditionMatches(statement.Condition, values, document.Version === '2012-10-17')) continue
    if (statement.Effect === 'Deny') return 'deny'
    if (allowed !== 'direct') allowed = named
  }
  return allowed ?? 'deny'
}

/** Role session names: 2–64 of [\w+=,.@-]. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

/** AWS's limit on the plaintext of a session's inline and managed policies together. */
const SESSION_POLICY_LIMIT = 2048

/**
 * Checks AssumeRole's session policies as STS does (a malformed inline document
 * or an unknown managed policy refuses the call) and returns how much of the
 * plaintext limit they use, in percent (STS's PackedPolicySize).
 */
function checkSessionPolicies(state: IamState, policy: string | undefined, arns: readonly string[]): number {
  let size = 0
  if (policy !== undefined) {
    checkDocument(policy)
    size += policy.length
  }
  for (const arn of arns) {
    const found = state.findPolicy(arn)
    if (!found) throw malformedPolicy(`The session policy ${arn} does not exist or is not attachable.`)
    size += arn.length
  }
  if (size > SESSION_POLICY_LIMIT)
    throw validationError('policy', `${size} characters`, `Member must have length less than or equal to ${SESSION_POLICY_LIMIT}`)
  return Math.max(1, Math.ceil((size / SESSION_POLICY_LIMIT) * 100))
}

/**
 * Issues temporary credentials for a role (what AssumeRole returns, and what
 * EC2 instance profiles and Lambda execution roles hand their code). The
 * caller has already checked who may assume it.
 */
export function issueRoleSession(
  state: IamState,
  input: {RoleArn: string; RoleSessionName: string; DurationSeconds?: number; Policy?: string; PolicyArns?: string[]},
) {
  const roleName = input.RoleArn.split('/').pop() ?? ''
  const role = state.findRole(roleName)
  if (!role || role.Arn !== input.RoleArn)
    throw new AwsError('AccessDenied', `Roles may not be assumed by this caller: ${input.RoleArn} does not exist.`, 403)
  if (!SESSION_NAME.test(input.RoleSessionName)) {
    throw validationError(
      'roleSessionName',
      input.RoleSessionName,
      'Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2-64',
    )
  }
  const duration = input.DurationSeconds ?? 3600
  if (!Number.isInteger(duration) || duration < 900 || duration > role.MaxSessionDuration) {
    throw validationError('durationSeconds', String(duration), `Member must have value between 900 and ${role.MaxSessionDuration}`)
  }
  const arns = input.PolicyArns ?? []
  const limited = input.Policy !== undefined || arns.length > 0
  const packedPolicySize = limited ? checkSessionPolicies(state, input.Policy, arns) : undefined
  role.LastUsed = {LastUsedDate: isoNow(state.now()), Region: DEFAULT_REGION}
  const session: SessionRecord = {
    AccessKeyId: newAccessKeyId('ASIA'),
    SecretAccessKey: newSecretAccessKey(),
    SessionToken: newSessionToken(),
    Expiration: state.clock() + duration * 1000,
    RoleName: nameKey(role.RoleName),
    RoleSessionName: input.RoleSessionName,
    ...(input.Policy !== undefined ? {SessionPolicy: input.Policy} : {}),
    ...(arns.length > 0 ? {SessionPolicyArns: arns} : {}),
  }
  return {
    Credentials: keepSession(state, session),
    AssumedRoleUser: {
      AssumedRoleId: `${role.RoleId}:${input.RoleSessionName}`,
      Arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.RoleName}/${input.RoleSessionName}`,
    },
    ...(packedPolicySize !== undefined ? {PackedPolicySize: packedPolicySize} : {}),
  }
}

/** GetSessionToken: temporary credentials acting as the calling user. */
export function issueUserSession(state: IamState, input: {UserName: string; DurationSeconds?: number}) {
  const user = state.user(input.UserName)
  const duration = input.DurationSeconds ?? 43_200
  if (!Number.isInteger(duration) || duration < 900 || duration > 129_600) {
    throw validationError('durationSeconds', String(duration), 'Member must have value between 900 and 129600')
  }
  const session: SessionRecord = {
    AccessKeyId: newAccessKeyId('ASIA'),
    SecretAccessKey: newSecretAccessKey(),
    SessionToken: newSessionToken(),
    Expiration: state.clock() + duration * 1000,
    UserName: nameKey(user.UserName),
  }
  return {Credentials: keepSession(state, session)}
}

/** Records a new session (dropping expired ones) and gives back the credentials STS returns for it. */
function keepSession(state: IamState, session: SessionRecord) {
  state.data.sessions[session.AccessKeyId] = session
  pruneExpiredSessions(state)
  return {
    AccessKeyId: session.AccessKeyId,
    SecretAccessKey: session.SecretAccessKey,
    SessionToken: session.SessionToken,
    Expiration: isoNow(new Date(session.Expiration)),
  }
}

/** Sessions past their expiry can never be used again; drop them so the state file does not grow without end. */
function pruneExpiredSessions(state: IamState) {
  const now = state.clock()
  for (const [id, session] of Object.entries(state.data.sessions)) if (session.Expiration <= now) delete state.data.sessions[id]
}

/**
 * An instance profile by name or ARN, with its role (for EC2 and anything that
 * hands a profile's credentials to code); undefined when there is no such profile.
 */
export function findInstanceProfile(state: IamState, nameOrArn: string): {profile: InstanceProfileRecord; role?: RoleRecord} | undefined {
  const profile = nameOrArn.startsWith('arn:')
    ? Object.values(state.data.instanceProfiles).find((candidate) => candidate.Arn === nameOrArn)
    : state.data.instanceProfiles[nameKey(nameOrArn)]
  if (!profile) return undefined
  const key = profile.Roles[0]
  const role = key === undefined ? undefined : state.data.roles[key]
  return role ? {profile, role} : {profile}
}
