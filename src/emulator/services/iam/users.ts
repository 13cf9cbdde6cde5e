/**
 * IAM users, groups and membership, access keys and login profiles. Each
 * operation is a plain function over the state that returns the operation's
 * result in AWS's member names; the handler saves the state after mutations.
 */
import {X509Certificate} from 'node:crypto'
import {AwsError} from '../../errors.js'
import {ACCOUNT_ID} from '../../types.js'
import {deleteConflict, entityExists, limitExceeded, noSuchEntity, passwordPolicyViolation, validationError} from './errors.js'
import {
  type AccessKeyRecord,
  checkName,
  checkPath,
  dict,
  type GroupRecord,
  isoNow,
  nameKey,
  newAccessKeyId,
  newSecretAccessKey,
  newUniqueId,
  type SigningCertificateRecord,
  type TagRecord,
  type UserRecord,
} from './model.js'
import type {IamState} from './state.js'
import {boundaryView, checkBoundary, checkTags, tagsView} from './tags.js'

/** A user as IAM returns it; listings leave out the boundary and tags, as AWS's do. */
export const userView = (user: UserRecord, full = false) => ({
  Path: user.Path,
  UserName: user.UserName,
  UserId: user.UserId,
  Arn: user.Arn,
  CreateDate: user.CreateDate,
  ...(full ? {...boundaryView(user.PermissionsBoundary), ...tagsView(user.Tags)} : {}),
})

export const groupView = (group: GroupRecord) => ({
  Path: group.Path,
  GroupName: group.GroupName,
  GroupId: group.GroupId,
  Arn: group.Arn,
  CreateDate: group.CreateDate,
})

const keyView = (user: UserRecord, key: AccessKeyRecord) => ({
  UserName: user.UserName,
  AccessKeyId: key.AccessKeyId,
  Status: key.Status,
  CreateDate: key.CreateDate,
})

export function createUser(state: IamState, input: {UserName: string; Path?: string; PermissionsBoundary?: string; Tags?: TagRecord[]}) {
  const name = checkName('userName', input.UserName, 64)
  const path = checkPath(input.Path)
  const tags = checkTags(input.Tags ?? [])
  const boundary = input.PermissionsBoundary === undefined ? undefined : checkBoundary(state, input.PermissionsBoundary)
  if (state.findUser(name)) throw entityExists('user', name)
  const user: UserRecord = {
    UserName: name,
    UserId: newUniqueId('AIDA'),
    Arn: state.arn('user', path, name),
    Path: path,
    CreateDate: isoNow(state.now()),
    Groups: [],
    AccessKeys: [],
    InlinePolicies: dict(),
    AttachedPolicyArns: [],
    ...(tags.length > 0 ? {Tags: tags} : {}),
    ...(boundary !== undefined ? {PermissionsBoundary: boundary} : {}),
  }
  state.data.users[nameKey(name)] = user
  return {User: userView(user, true)}
}

/** GetUser names a user, or with no name describes the caller (the root account has no user record). */
export function getUser(state: IamState, input: {UserName?: string; callerUserName?: string}) {
  const name = input.UserName ?? input.callerUserName
  if (name === undefined) {
    return {User: {UserId: ACCOUNT_ID, Arn: `arn:aws:iam::${ACCOUNT_ID}:root`, CreateDate: isoNow(new Date(0))}}
  }
  return {User: userView(state.user(name), true)}
}

export function listUsers(state: IamState, input: {PathPrefix?: string}) {
  const prefix = input.PathPrefix ?? '/'
  return Object.values(state.data.users)
    .filter((user) => user.Path.startsWith(prefix))
    .sort((a, b) => nameKey(a.UserName).localeCompare(nameKey(b.UserName)))
    .map((user) => userView(user))
}

export function updateUser(state: IamState, input: {UserName: string; NewUserName?: string; NewPath?: string}) {
  const user = state.user(input.UserName)
  const newName = input.NewUserName === undefined ? user.UserName : checkName('newUserName', input.NewUserName, 64)
  const newPath = input.NewPath === undefined ? user.Path : checkPath(input.NewPath, 'newPath')
  if (nameKey(newName) !== nameKey(user.UserName) && state.findUser(newName)) throw entityExists('user', newName)
  delete state.data.users[nameKey(user.UserName)]
  user.UserName = newName
  user.Path = newPath
  user.Arn = state.arn('user', newPath, newName)
  state.data.users[nameKey(newName)] = user
}

/** As on AWS, a user is deleted only once nothing hangs off it. */
export function deleteUser(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  if (user.AccessKeys.length > 0) throw deleteConflict('delete access keys')
  if (user.LoginProfile) throw deleteConflict('delete login profile')
  if ((user.SigningCertificates ?? []).length > 0) throw deleteConflict('delete signing certificates')
  if (Object.keys(user.InlinePolicies).length > 0) throw deleteConflict('delete policies')
  if (user.AttachedPolicyArns.length > 0) throw deleteConflict('detach all policies')
  if (user.Groups.length > 0) throw deleteConflict('remove users from group')
  delete state.data.users[nameKey(user.UserName)]
}

export function createGroup(state: IamState, input: {GroupName: string; Path?: string}) {
  const name = checkName('groupName', input.GroupName, 128)
  const path = checkPath(input.Path)
  if (state.data.groups[nameKey(name)]) throw entityExists('group', name)
  const group: GroupRecord = {
    GroupName: name,
    GroupId: newUniqueId('AGPA'),
    Arn: state.arn('group', path, name),
    Path: path,
    CreateDate: isoNow(state.now()),
    InlinePolicies: dict(),
    AttachedPolicyArns: [],
  }
  state.data.groups[nameKey(name)] = group
  return {Group: groupView(group)}
}

/** UpdateGroup: a new name or path; the group keeps its id, members and policies (members follow the new name). */
export function updateGroup(state: IamState, input: {GroupName: string; NewGroupName?: string; NewPath?: string}) {
  const group = state.group(input.GroupName)
  const oldKey = nameKey(group.GroupName)
  const newName = input.NewGroupName === undefined ? group.GroupName : checkName('newGroupName', input.NewGroupName, 128)
  const newPath = input.NewPath === undefined ? group.Path : checkPath(input.NewPath, 'newPath')
  const newKey = nameKey(newName)
  if (newKey !== oldKey && state.data.groups[newKey]) throw entityExists('group', newName)
  delete state.data.groups[oldKey]
  group.GroupName = newName
  group.Path = newPath
  group.Arn = state.arn('group', newPath, newName)
  state.data.groups[newKey] = group
  if (newKey !== oldKey)
    for (const user of Object.values(state.data.users)) user.Groups = user.Groups.map((key) => (key === oldKey ? newKey : key))
}

const membersOf = (state: IamState, group: GroupRecord) =>
  Object.values(state.data.users).filter((user) => user.Groups.includes(nameKey(group.GroupName)))

export function getGroup(state: IamState, input: {GroupName: string}) {
  const group = state.group(input.GroupName)
  return {group: groupView(group), users: membersOf(state, group).map((user) => userView(user))}
}

export function listGroups(state: IamState, input: {PathPrefix?: string}) {
  const prefix = input.PathPrefix ?? '/'
  return Object.values(state.data.groups)
    .filter((group) => group.Path.startsWith(prefix))
    .sort((a, b) => nameKey(a.GroupName).localeCompare(nameKey(b.GroupName)))
    .map(groupView)
}

export function deleteGroup(state: IamState, input: {GroupName: string}) {
  const group = state.group(input.GroupName)
  if (membersOf(state, group).length > 0) throw deleteConflict('remove users from group')
  if (Object.keys(group.InlinePolicies).length > 0) throw deleteConflict('delete policies')
  if (group.AttachedPolicyArns.length > 0) throw deleteConflict('detach all policies')
  delete state.data.groups[nameKey(group.GroupName)]
}

export function addUserToGroup(state: IamState, input: {GroupName: string; UserName: string}) {
  const group = state.group(input.GroupName)
  const user = state.user(input.UserName)
  if (!user.Groups.includes(nameKey(group.GroupName))) user.Groups.push(nameKey(group.GroupName))
}

export function removeUserFromGroup(state: IamState, input: {GroupName: string; UserName: string}) {
  const group = state.group(input.GroupName)
  const user = state.user(input.UserName)
  const index = user.Groups.indexOf(nameKey(group.GroupName))
  if (index < 0) throw noSuchEntity(`User ${user.UserName} is not in group ${group.GroupName}.`)
  user.Groups.splice(index, 1)
}

export function listGroupsForUser(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  return user.Groups.flatMap((key) => {
    const group = state.data.groups[key]
    return group ? [groupView(group)] : []
  })
}

/** IAM allows two access keys per user. */
const ACCESS_KEYS_PER_USER = 2

export function createAccessKey(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  if (user.AccessKeys.length >= ACCESS_KEYS_PER_USER)
    throw limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`)
  const key: AccessKeyRecord = {
    AccessKeyId: newAccessKeyId('AKIA'),
    SecretAccessKey: newSecretAccessKey(),
    Status: 'Active',
    CreateDate: isoNow(state.now()),
  }
  user.AccessKeys.push(key)
  return {
    AccessKey: {
      UserName: user.UserName,
      AccessKeyId: key.AccessKeyId,
      Status: key.Status,
      SecretAccessKey: key.SecretAccessKey,
      CreateDate: key.CreateDate,
    },
  }
}

export function listAccessKeys(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  return user.AccessKeys.map((key) => keyView(user, key))
}

function accessKeyOf(user: UserRecord, accessKeyId: string): AccessKeyRecord {
  const key = user.AccessKeys.find((candidate) => candidate.AccessKeyId === accessKeyId)
  if (!key) throw noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`)
  return key
}

export function updateAccessKey(state: IamState, input: {UserName: string; AccessKeyId: string; Status: string}) {
  if (input.Status !== 'Active' && input.Status !== 'Inactive') {
    throw validationError('status', input.Status, 'Member must satisfy enum value set: [Active, Inactive]')
  }
  accessKeyOf(state.user(input.UserName), input.AccessKeyId).Status = input.Status
}

export function deleteAccessKey(state: IamState, input: {UserName: string; AccessKeyId: string}) {
  const user = state.user(input.UserName)
  const key = accessKeyOf(user, input.AccessKeyId)
  user.AccessKeys = user.AccessKeys.filter((candidate) => candidate !== key)
}

const MIN_PASSWORD_LENGTH = 8

function checkPassword(password: string, member = 'password') {
  if (password.length < 1 || password.length > 128) throw validationError(member, '******', 'Member must have length between 1 and 128')
  // No account password policy is set, so AWS's default minimum applies.
  if (password.length < MIN_PASSWORD_LENGTH)
    throw passwordPolicyViolation(`Password should have at least ${MIN_PASSWORD_LENGTH} characters`)
}

const loginView = (user: UserRecord) => ({
  UserName: user.UserName,
  CreateDate: user.LoginProfile!.CreateDate,
  PasswordResetRequired: user.LoginProfile!.PasswordResetRequired,
})

export function createLoginProfile(state: IamState, input: {UserName: string; Password: string; PasswordResetRequired?: boolean}) {
  const user = state.user(input.UserName)
  if (user.LoginProfile) throw new AwsError('EntityAlreadyExists', `Login Profile for user ${user.UserName} already exists.`, 409)
  checkPassword(input.Password)
  user.LoginProfile = {
    CreateDate: isoNow(state.now()),
    PasswordResetRequired: input.PasswordResetRequired ?? false,
    Password: input.Password,
  }
  return {LoginProfile: loginView(user)}
}

function loginProfileOf(user: UserRecord) {
  if (!user.LoginProfile) throw noSuchEntity(`Login Profile for User ${user.UserName} cannot be found.`)
  return user.LoginProfile
}

export function getLoginProfile(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  loginProfileOf(user)
  return {LoginProfile: loginView(user)}
}

export function updateLoginProfile(state: IamState, input: {UserName: string; Password?: string; PasswordResetRequired?: boolean}) {
  const profile = loginProfileOf(state.user(input.UserName))
  if (input.Password !== undefined) {
    checkPassword(input.Password)
    profile.Password = input.Password
  }
  if (input.PasswordResetRequired !== undefined) profile.PasswordResetRequired = input.PasswordResetRequired
}

export function deleteLoginProfile(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  loginProfileOf(user)
  delete user.LoginProfile
}

/** ChangePassword is the caller changing its own console password; the root account has none here. */
export function changePassword(state: IamState, input: {callerUserName?: string; OldPassword: string; NewPassword: string}) {
  // AWS refuses the account root here: only an IAM user has a password this call can change.
  if (input.callerUserName === undefined)
    throw new AwsError(
      'InvalidUserType',
      "ChangePassword changes the calling IAM user's own password; the account root cannot call it.",
      400,
    )
  const user = state.user(input.callerUserName)
  const profile = loginProfileOf(user)
  if (profile.Password !== input.OldPassword) throw new AwsError('InvalidUserType', 'The old password is incorrect.', 400)
  checkPassword(input.NewPassword, 'newPassword')
  profile.Password = input.NewPassword
  profile.PasswordResetRequired = false
}

/** IAM allows two signing certificates per user. */
const CERTIFICATES_PER_USER = 2

const certificateView = (user: UserRecord, certificate: SigningCertificateRecord) => ({
  UserName: user.UserName,
  CertificateId: certificate.CertificateId,
  CertificateBody: certificate.CertificateBody,
  Status: certificate.Status,
  UploadDate: certificate.UploadDate,
})

/** The certificate's DER bytes, or undefined when the body is not one PEM X.509 certificate. */
function certificateDer(body: string): Buffer | undefined {
  try {
    return new X509Certificate(body).raw
  } catch {
    return undefined
  }
}

export function uploadSigningCertificate(state: IamState, input: {UserName: string; CertificateBody: string}) {
  const user = state.user(input.UserName)
  if (input.CertificateBody.length < 1 || input.CertificateBody.length > 16_384)
    throw validationError('certificateBody', '…', 'Member must have length between 1 and 16384')
  const der = certificateDer(input.CertificateBody)
  if (!der) throw new AwsError('MalformedCertificate', 'The certificate body is not a valid PEM-encoded X.509 certificate.', 400)
  const certificates = user.SigningCertificates ?? []
  if (certificates.some((existing) => certificateDer(existing.CertificateBody)?.equals(der)))
    throw new AwsError('DuplicateCertificate', 'The certificate is already uploaded for this user.', 409)
  if (certificates.length >= CERTIFICATES_PER_USER)
    throw limitExceeded(`Cannot exceed quota for SigningCertificatesPerUser: ${CERTIFICATES_PER_USER}`)
  const certificate: SigningCertificateRecord = {
    // IAM's certificate ids: upper-case letters and digits (24 here).
    CertificateId: newUniqueId('AIDA').slice(4) + newUniqueId('AIDA').slice(4, 11),
    CertificateBody: input.CertificateBody,
    Status: 'Active',
    UploadDate: isoNow(state.now()),
  }
  user.SigningCertificates = [...certificates, certificate]
  return {Certificate: certificateView(user, certificate)}
}

export function listSigningCertificates(state: IamState, input: {UserName: string}) {
  const user = state.user(input.UserName)
  return (user.SigningCertificates ?? []).map((certificate) => certificateView(user, certificate))
}

function certificateOf(user: UserRecord, certificateId: string): SigningCertificateRecord {
  const found = (user.SigningCertificates ?? []).find((certificate) => certificate.CertificateId === certificateId)
  if (!found) throw noSuchEntity(`The Certificate with id ${certificateId} cannot be found.`)
  return found
}

export function updateSigningCertificate(state: IamState, input: {UserName: string; CertificateId: string; Status: string}) {
  if (input.Status !== 'Active' && input.Status !== 'Inactive') {
    throw validationError('status', input.Status, 'Member must satisfy enum value set: [Active, Inactive]')
  }
  certificateOf(state.user(input.UserName), input.CertificateId).Status = input.Status
}

export function deleteSigningCertificate(state: IamState, input: {UserName: string; CertificateId: string}) {
  const user = state.user(input.UserName)
  const certificate = certificateOf(user, input.CertificateId)
  user.SigningCertificates = (user.SigningCertificates ?? []).filter((candidate) => candidate !== certificate)
}
