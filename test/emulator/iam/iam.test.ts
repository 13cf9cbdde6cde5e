import * as iam from '@aws-sdk/client-iam'
import test from 'ava'
import type {RunningServer} from '../../../src/emulator/server.js'
import {emulator, iamClient, rejects} from './helpers.js'

let server: RunningServer
let client: iam.IAMClient
test.before(async () => {
  server = (await emulator()).server
  client = iamClient(server.endpoint)
})
test.after.always(async () => server?.close())

const s3Read = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*'}]})
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})

test('users: create, get, list with paths, update, delete; ids and ARNs as AWS forms them', async (t) => {
  const created = await client.send(new iam.CreateUserCommand({UserName: 'ana', Path: '/team/'}))
  t.regex(created.User!.UserId!, /^AIDA[A-Z2-7]{17}$/)
  t.is(created.User!.Arn, 'arn:aws:iam::000000000000:user/team/ana')
  t.true(created.User!.CreateDate instanceof Date)
  t.is((await client.send(new iam.GetUserCommand({UserName: 'ana'}))).User!.UserId, created.User!.UserId)
  await client.send(new iam.CreateUserCommand({UserName: 'ben'}))
  const listed = await client.send(new iam.ListUsersCommand({PathPrefix: '/team/'}))
  t.deepEqual(
    listed.Users!.map((u) => u.UserName),
    ['ana'],
  )
  await client.send(new iam.UpdateUserCommand({UserName: 'ben', NewUserName: 'benjamin', NewPath: '/ops/'}))
  t.is((await client.send(new iam.GetUserCommand({UserName: 'benjamin'}))).User!.Arn, 'arn:aws:iam::000000000000:user/ops/benjamin')
  await client.send(new iam.DeleteUserCommand({UserName: 'benjamin'}))
  await rejects(t, client.send(new iam.GetUserCommand({UserName: 'benjamin'})), 'NoSuchEntityException', 404)
  const root = await client.send(new iam.GetUserCommand({}))
  t.is(root.User!.Arn, 'arn:aws:iam::000000000000:root')
})

test('user errors: names unique regardless of case, name rules, paths, deleting a user that still has things', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'carol'}))
  await rejects(t, client.send(new iam.CreateUserCommand({UserName: 'Carol'})), 'EntityAlreadyExistsException', 409)
  await rejects(t, client.send(new iam.CreateUserCommand({UserName: 'bad name!'})), 'ValidationError', 400)
  await rejects(t, client.send(new iam.CreateUserCommand({UserName: 'x'.repeat(65)})), 'ValidationError', 400)
  await rejects(t, client.send(new iam.CreateUserCommand({UserName: 'dan', Path: 'nopath'})), 'ValidationError', 400)
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'nobody'})), 'NoSuchEntityException', 404)
  const key = await client.send(new iam.CreateAccessKeyCommand({UserName: 'carol'}))
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'carol'})), 'DeleteConflictException', 409)
  await client.send(new iam.DeleteAccessKeyCommand({UserName: 'carol', AccessKeyId: key.AccessKey!.AccessKeyId!}))
  await client.send(new iam.PutUserPolicyCommand({UserName: 'carol', PolicyName: 'read', PolicyDocument: s3Read}))
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'carol'})), 'DeleteConflictException', 409)
  await client.send(new iam.DeleteUserPolicyCommand({UserName: 'carol', PolicyName: 'read'}))
  await client.send(new iam.CreateGroupCommand({GroupName: 'carols'}))
  await client.send(new iam.AddUserToGroupCommand({GroupName: 'carols', UserName: 'carol'}))
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'carol'})), 'DeleteConflictException', 409)
  await rejects(t, client.send(new iam.DeleteGroupCommand({GroupName: 'carols'})), 'DeleteConflictException', 409)
  await client.send(new iam.RemoveUserFromGroupCommand({GroupName: 'carols', UserName: 'carol'}))
  await rejects(t, client.send(new iam.RemoveUserFromGroupCommand({GroupName: 'carols', UserName: 'carol'})), 'NoSuchEntityException', 404)
  await client.send(new iam.DeleteUserCommand({UserName: 'carol'}))
  await client.send(new iam.DeleteGroupCommand({GroupName: 'carols'}))
})

test('groups: members, groups for user, list, pagination with Marker/MaxItems', async (t) => {
  await client.send(new iam.CreateGroupCommand({GroupName: 'alpha', Path: '/labs/'}))
  await client.send(new iam.CreateGroupCommand({GroupName: 'beta'}))
  await rejects(t, client.send(new iam.CreateGroupCommand({GroupName: 'ALPHA'})), 'EntityAlreadyExistsException', 409)
  for (const name of ['g1', 'g2', 'g3']) {
    await client.send(new iam.CreateUserCommand({UserName: name}))
    await client.send(new iam.AddUserToGroupCommand({GroupName: 'alpha', UserName: name}))
  }
  await client.send(new iam.AddUserToGroupCommand({GroupName: 'beta', UserName: 'g1'}))
  const group = await client.send(new iam.GetGroupCommand({GroupName: 'alpha'}))
  t.is(group.Group!.Arn, 'arn:aws:iam::000000000000:group/labs/alpha')
  t.regex(group.Group!.GroupId!, /^AGPA[A-Z2-7]{17}$/)
  t.deepEqual(group.Users!.map((u) => u.UserName).sort(), ['g1', 'g2', 'g3'])
  const first = await client.send(new iam.GetGroupCommand({GroupName: 'alpha', MaxItems: 2}))
  t.true(first.IsTruncated)
  t.is(first.Users!.length, 2)
  const rest = await client.send(new iam.GetGroupCommand({GroupName: 'alpha', MaxItems: 2, Marker: first.Marker}))
  t.false(rest.IsTruncated)
  t.is(rest.Users!.length, 1)
  const forUser = await client.send(new iam.ListGroupsForUserCommand({UserName: 'g1'}))
  t.deepEqual(
    forUser.Groups!.map((g) => g.GroupName),
    ['alpha', 'beta'],
  )
  const listed = await client.send(new iam.ListGroupsCommand({}))
  t.true(['alpha', 'beta'].every((name) => listed.Groups!.some((g) => g.GroupName === name)))
  await rejects(t, client.send(new iam.GetGroupCommand({GroupName: 'gamma'})), 'NoSuchEntityException', 404)
  await rejects(t, client.send(new iam.AddUserToGroupCommand({GroupName: 'alpha', UserName: 'ghost'})), 'NoSuchEntityException', 404)
  await rejects(t, client.send(new iam.ListUsersCommand({MaxItems: 0})), 'ValidationError', 400)
})

test('UpdateGroup renames a group and moves its path: members, policies and id follow; the old name is gone', async (t) => {
  await client.send(new iam.CreateGroupCommand({GroupName: 'before'}))
  await client.send(new iam.CreateUserCommand({UserName: 'mover'}))
  await client.send(new iam.AddUserToGroupCommand({GroupName: 'before', UserName: 'mover'}))
  await client.send(new iam.PutGroupPolicyCommand({GroupName: 'before', PolicyName: 'p', PolicyDocument: s3Read}))
  const id = (await client.send(new iam.GetGroupCommand({GroupName: 'before'}))).Group!.GroupId
  await client.send(new iam.UpdateGroupCommand({GroupName: 'before', NewGroupName: 'after', NewPath: '/moved/'}))
  const after = await client.send(new iam.GetGroupCommand({GroupName: 'after'}))
  t.is(after.Group!.Arn, 'arn:aws:iam::000000000000:group/moved/after')
  t.is(after.Group!.GroupId, id)
  t.deepEqual(
    after.Users!.map((u) => u.UserName),
    ['mover'],
  )
  t.deepEqual(
    (await client.send(new iam.ListGroupsForUserCommand({UserName: 'mover'}))).Groups!.map((g) => g.GroupName),
    ['after'],
  )
  t.deepEqual((await client.send(new iam.ListGroupPoliciesCommand({GroupName: 'after'}))).PolicyNames, ['p'])
  await rejects(t, client.send(new iam.GetGroupCommand({GroupName: 'before'})), 'NoSuchEntityException', 404)
  await client.send(new iam.CreateGroupCommand({GroupName: 'taken'}))
  await rejects(
    t,
    client.send(new iam.UpdateGroupCommand({GroupName: 'after', NewGroupName: 'TAKEN'})),
    'EntityAlreadyExistsException',
    409,
  )
})

test('names that are also Object members (constructor, __proto__, toString) are plain IAM names for users, groups and policies', async (t) => {
  for (const name of ['constructor', '__proto__', 'toString']) {
    await rejects(t, client.send(new iam.GetUserCommand({UserName: name})), 'NoSuchEntityException', 404)
    await client.send(new iam.CreateUserCommand({UserName: name}))
    t.is((await client.send(new iam.GetUserCommand({UserName: name}))).User!.UserName, name)
    await client.send(new iam.CreateGroupCommand({GroupName: `g${name}`}))
    await client.send(new iam.AddUserToGroupCommand({GroupName: `g${name}`, UserName: name}))
    await client.send(new iam.PutUserPolicyCommand({UserName: name, PolicyName: name, PolicyDocument: s3Read}))
    t.deepEqual((await client.send(new iam.ListUserPoliciesCommand({UserName: name}))).PolicyNames, [name])
    t.is(decodeURIComponent((await client.send(new iam.GetUserPolicyCommand({UserName: name, PolicyName: name}))).PolicyDocument!), s3Read)
  }
  const listed = (await client.send(new iam.ListUsersCommand({}))).Users!.map((u) => u.UserName)
  t.true(
    ['constructor', '__proto__', 'toString'].every((name) => listed.includes(name)),
    listed.join(' '),
  )
})

test('inline policies of users, groups and roles: put, get (URL-encoded document), list, delete; malformed refused', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'ivy'}))
  await client.send(new iam.CreateGroupCommand({GroupName: 'ivies'}))
  await client.send(new iam.CreateRoleCommand({RoleName: 'ivy-role', AssumeRolePolicyDocument: trust}))
  const cases: [
    string,
    () => Promise<unknown>,
    () => Promise<{PolicyDocument?: string}>,
    () => Promise<{PolicyNames?: string[]}>,
    () => Promise<unknown>,
  ][] = [
    [
      'user',
      () => client.send(new iam.PutUserPolicyCommand({UserName: 'ivy', PolicyName: 'p', PolicyDocument: s3Read})),
      () => client.send(new iam.GetUserPolicyCommand({UserName: 'ivy', PolicyName: 'p'})),
      () => client.send(new iam.ListUserPoliciesCommand({UserName: 'ivy'})),
      () => client.send(new iam.DeleteUserPolicyCommand({UserName: 'ivy', PolicyName: 'p'})),
    ],
    [
      'group',
      () => client.send(new iam.PutGroupPolicyCommand({GroupName: 'ivies', PolicyName: 'p', PolicyDocument: s3Read})),
      () => client.send(new iam.GetGroupPolicyCommand({GroupName: 'ivies', PolicyName: 'p'})),
      () => client.send(new iam.ListGroupPoliciesCommand({GroupName: 'ivies'})),
      () => client.send(new iam.DeleteGroupPolicyCommand({GroupName: 'ivies', PolicyName: 'p'})),
    ],
    [
      'role',
      () => client.send(new iam.PutRolePolicyCommand({RoleName: 'ivy-role', PolicyName: 'p', PolicyDocument: s3Read})),
      () => client.send(new iam.GetRolePolicyCommand({RoleName: 'ivy-role', PolicyName: 'p'})),
      () => client.send(new iam.ListRolePoliciesCommand({RoleName: 'ivy-role'})),
      () => client.send(new iam.DeleteRolePolicyCommand({RoleName: 'ivy-role', PolicyName: 'p'})),
    ],
  ]
  for (const [kind, put, get, list, remove] of cases) {
    await put()
    t.is(decodeURIComponent((await get()).PolicyDocument!), s3Read, kind)
    t.deepEqual((await list()).PolicyNames, ['p'], kind)
    await remove()
    await rejects(t, get(), 'NoSuchEntityException', 404)
    await rejects(t, remove() as Promise<unknown>, 'NoSuchEntityException', 404)
  }
  for (const bad of [
    '{not json',
    JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 's3:GetObject'}]}),
    JSON.stringify({Statement: []}),
  ]) {
    await rejects(
      t,
      client.send(new iam.PutUserPolicyCommand({UserName: 'ivy', PolicyName: 'bad', PolicyDocument: bad})),
      'MalformedPolicyDocumentException',
      400,
    )
  }
  await rejects(
    t,
    client.send(new iam.PutUserPolicyCommand({UserName: 'nobody', PolicyName: 'p', PolicyDocument: s3Read})),
    'NoSuchEntityException',
    404,
  )
})

test('managed policies: create, get, list, versions, attach/detach to user, group, role, delete; AWS managed ones exist', async (t) => {
  const created = await client.send(
    new iam.CreatePolicyCommand({PolicyName: 'reader', PolicyDocument: s3Read, Path: '/ncap/', Description: 'read b'}),
  )
  const arn = created.Policy!.Arn!
  t.is(arn, 'arn:aws:iam::000000000000:policy/ncap/reader')
  t.regex(created.Policy!.PolicyId!, /^ANPA[A-Z2-7]{17}$/)
  t.is(created.Policy!.DefaultVersionId, 'v1')
  await rejects(
    t,
    client.send(new iam.CreatePolicyCommand({PolicyName: 'reader', PolicyDocument: s3Read, Path: '/ncap/'})),
    'EntityAlreadyExistsException',
    409,
  )
  await rejects(
    t,
    client.send(new iam.CreatePolicyCommand({PolicyName: 'broken', PolicyDocument: '{}'})),
    'MalformedPolicyDocumentException',
    400,
  )
  t.is((await client.send(new iam.GetPolicyCommand({PolicyArn: arn}))).Policy!.Description, 'read b')
  const v2 = await client.send(
    new iam.CreatePolicyVersionCommand({PolicyArn: arn, PolicyDocument: s3Read.replace('GetObject', 'PutObject'), SetAsDefault: true}),
  )
  t.is(v2.PolicyVersion!.VersionId, 'v2')
  t.true(v2.PolicyVersion!.IsDefaultVersion)
  const version = await client.send(new iam.GetPolicyVersionCommand({PolicyArn: arn, VersionId: 'v2'}))
  t.true(decodeURIComponent(version.PolicyVersion!.Document!).includes('s3:PutObject'))
  await rejects(t, client.send(new iam.GetPolicyVersionCommand({PolicyArn: arn, VersionId: 'v9'})), 'NoSuchEntityException', 404)
  t.deepEqual(
    (await client.send(new iam.ListPolicyVersionsCommand({PolicyArn: arn}))).Versions!.map((v) => v.VersionId),
    ['v2', 'v1'],
  )
  await client.send(new iam.DeletePolicyVersionCommand({PolicyArn: arn, VersionId: 'v1'}))
  await client.send(new iam.CreateUserCommand({UserName: 'mia'}))
  await client.send(new iam.CreateGroupCommand({GroupName: 'mias'}))
  await client.send(new iam.CreateRoleCommand({RoleName: 'mia-role', AssumeRolePolicyDocument: trust}))
  await client.send(new iam.AttachUserPolicyCommand({UserName: 'mia', PolicyArn: arn}))
  await client.send(new iam.AttachGroupPolicyCommand({GroupName: 'mias', PolicyArn: arn}))
  await client.send(
    new iam.AttachRolePolicyCommand({RoleName: 'mia-role', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'}),
  )
  await client.send(
    new iam.AttachRolePolicyCommand({RoleName: 'mia-role', PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'}),
  )
  await rejects(
    t,
    client.send(new iam.AttachUserPolicyCommand({UserName: 'mia', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchThing'})),
    'NoSuchEntityException',
    404,
  )
  t.is((await client.send(new iam.GetPolicyCommand({PolicyArn: arn}))).Policy!.AttachmentCount, 2)
  t.deepEqual((await client.send(new iam.ListAttachedUserPoliciesCommand({UserName: 'mia'}))).AttachedPolicies, [
    {PolicyName: 'reader', PolicyArn: arn},
  ])
  t.is((await client.send(new iam.ListAttachedGroupPoliciesCommand({GroupName: 'mias'}))).AttachedPolicies!.length, 1)
  t.deepEqual(
    (await client.send(new iam.ListAttachedRolePoliciesCommand({RoleName: 'mia-role'}))).AttachedPolicies!.map((p) => p.PolicyName),
    ['AmazonSSMManagedInstanceCore', 'AWSLambdaBasicExecutionRole'],
  )
  const local = await client.send(new iam.ListPoliciesCommand({Scope: 'Local'}))
  t.deepEqual(
    local.Policies!.map((p) => p.PolicyName),
    ['reader'],
  )
  const attachedAws = await client.send(new iam.ListPoliciesCommand({Scope: 'AWS', OnlyAttached: true}))
  t.is(attachedAws.Policies!.length, 2)
  const s3ReadOnly = await client.send(
    new iam.GetPolicyVersionCommand({PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', VersionId: 'v3'}),
  )
  t.true(decodeURIComponent(s3ReadOnly.PolicyVersion!.Document!).includes('s3:List*'))
  await rejects(t, client.send(new iam.DeletePolicyCommand({PolicyArn: arn})), 'DeleteConflictException', 409)
  await rejects(
    t,
    client.send(new iam.DeletePolicyCommand({PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'})),
    'UnmodifiableEntityException',
    400,
  )
  await rejects(t, client.send(new iam.DeleteRoleCommand({RoleName: 'mia-role'})), 'DeleteConflictException', 409)
  await client.send(new iam.DetachUserPolicyCommand({UserName: 'mia', PolicyArn: arn}))
  await client.send(new iam.DetachGroupPolicyCommand({GroupName: 'mias', PolicyArn: arn}))
  await rejects(t, client.send(new iam.DetachGroupPolicyCommand({GroupName: 'mias', PolicyArn: arn})), 'NoSuchEntityException', 404)
  await client.send(new iam.DeletePolicyCommand({PolicyArn: arn}))
  await rejects(t, client.send(new iam.GetPolicyCommand({PolicyArn: arn})), 'NoSuchEntityException', 404)
})

test('access keys: AKIA ids and 40-character secrets, two per user, status updates, delete', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'kim'}))
  const first = await client.send(new iam.CreateAccessKeyCommand({UserName: 'kim'}))
  t.regex(first.AccessKey!.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/)
  t.is(first.AccessKey!.SecretAccessKey!.length, 40)
  t.is(first.AccessKey!.Status, 'Active')
  await client.send(new iam.CreateAccessKeyCommand({UserName: 'kim'}))
  await rejects(t, client.send(new iam.CreateAccessKeyCommand({UserName: 'kim'})), 'LimitExceededException', 409)
  await client.send(new iam.UpdateAccessKeyCommand({UserName: 'kim', AccessKeyId: first.AccessKey!.AccessKeyId!, Status: 'Inactive'}))
  const listed = await client.send(new iam.ListAccessKeysCommand({UserName: 'kim'}))
  t.is(listed.AccessKeyMetadata!.length, 2)
  t.is(listed.AccessKeyMetadata!.find((k) => k.AccessKeyId === first.AccessKey!.AccessKeyId)!.Status, 'Inactive')
  await rejects(
    t,
    client.send(new iam.UpdateAccessKeyCommand({UserName: 'kim', AccessKeyId: 'AKIANOTAKEY000000000', Status: 'Active'})),
    'NoSuchEntityException',
    404,
  )
  await rejects(
    t,
    client.send(new iam.DeleteAccessKeyCommand({UserName: 'kim', AccessKeyId: 'AKIANOTAKEY000000000'})),
    'NoSuchEntityException',
    404,
  )
  await client.send(new iam.DeleteAccessKeyCommand({UserName: 'kim', AccessKeyId: first.AccessKey!.AccessKeyId!}))
  t.is((await client.send(new iam.ListAccessKeysCommand({UserName: 'kim'}))).AccessKeyMetadata!.length, 1)
  await rejects(t, client.send(new iam.ListAccessKeysCommand({UserName: 'ghost'})), 'NoSuchEntityException', 404)
})

test('login profiles: create, get, update, delete; password rules; no account password policy', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'lea'}))
  await rejects(t, client.send(new iam.GetLoginProfileCommand({UserName: 'lea'})), 'NoSuchEntityException', 404)
  const created = await client.send(
    new iam.CreateLoginProfileCommand({UserName: 'lea', Password: 'correct-horse-1', PasswordResetRequired: true}),
  )
  t.is(created.LoginProfile!.UserName, 'lea')
  t.true(created.LoginProfile!.PasswordResetRequired)
  await rejects(
    t,
    client.send(new iam.CreateLoginProfileCommand({UserName: 'lea', Password: 'correct-horse-1'})),
    'EntityAlreadyExistsException',
    409,
  )
  await rejects(
    t,
    client.send(new iam.UpdateLoginProfileCommand({UserName: 'lea', Password: 'short'})),
    'PasswordPolicyViolationException',
    400,
  )
  await client.send(new iam.UpdateLoginProfileCommand({UserName: 'lea', PasswordResetRequired: false}))
  t.false((await client.send(new iam.GetLoginProfileCommand({UserName: 'lea'}))).LoginProfile!.PasswordResetRequired)
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'lea'})), 'DeleteConflictException', 409)
  await client.send(new iam.DeleteLoginProfileCommand({UserName: 'lea'}))
  await rejects(t, client.send(new iam.DeleteLoginProfileCommand({UserName: 'lea'})), 'NoSuchEntityException', 404)
  await rejects(t, client.send(new iam.GetAccountPasswordPolicyCommand({})), 'NoSuchEntityException', 404)
})

test('roles and instance profiles: create, get, list, add/remove role, delete conflicts', async (t) => {
  const role = await client.send(
    new iam.CreateRoleCommand({RoleName: 'worker', AssumeRolePolicyDocument: trust, Path: '/ncap/', Description: 'runs jobs'}),
  )
  t.regex(role.Role!.RoleId!, /^AROA[A-Z2-7]{17}$/)
  t.is(role.Role!.Arn, 'arn:aws:iam::000000000000:role/ncap/worker')
  t.is(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!), trust)
  t.is((await client.send(new iam.GetRoleCommand({RoleName: 'WORKER'}))).Role!.MaxSessionDuration, 3600)
  await rejects(
    t,
    client.send(new iam.CreateRoleCommand({RoleName: 'Worker', AssumeRolePolicyDocument: trust})),
    'EntityAlreadyExistsException',
    409,
  )
  await rejects(
    t,
    client.send(new iam.CreateRoleCommand({RoleName: 'untrusting', AssumeRolePolicyDocument: s3Read})),
    'MalformedPolicyDocumentException',
    400,
  )
  t.true((await client.send(new iam.ListRolesCommand({PathPrefix: '/ncap/'}))).Roles!.some((r) => r.RoleName === 'worker'))
  const profile = await client.send(new iam.CreateInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))
  t.regex(profile.InstanceProfile!.InstanceProfileId!, /^AIPA[A-Z2-7]{17}$/)
  t.deepEqual(profile.InstanceProfile!.Roles, [])
  await rejects(
    t,
    client.send(new iam.CreateInstanceProfileCommand({InstanceProfileName: 'worker-profile'})),
    'EntityAlreadyExistsException',
    409,
  )
  await client.send(new iam.AddRoleToInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'}))
  await rejects(
    t,
    client.send(new iam.AddRoleToInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'})),
    'LimitExceededException',
    409,
  )
  const got = await client.send(new iam.GetInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))
  t.deepEqual(
    got.InstanceProfile!.Roles!.map((r) => r.RoleName),
    ['worker'],
  )
  t.is((await client.send(new iam.ListInstanceProfilesCommand({}))).InstanceProfiles!.length, 1)
  await rejects(t, client.send(new iam.DeleteRoleCommand({RoleName: 'worker'})), 'DeleteConflictException', 409)
  await rejects(
    t,
    client.send(new iam.DeleteInstanceProfileCommand({InstanceProfileName: 'worker-profile'})),
    'DeleteConflictException',
    409,
  )
  await client.send(new iam.RemoveRoleFromInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'}))
  await rejects(
    t,
    client.send(new iam.RemoveRoleFromInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'})),
    'NoSuchEntityException',
    404,
  )
  await client.send(new iam.DeleteInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))
  await rejects(t, client.send(new iam.GetInstanceProfileCommand({InstanceProfileName: 'worker-profile'})), 'NoSuchEntityException', 404)
  await client.send(new iam.DeleteRoleCommand({RoleName: 'worker'}))
  await rejects(t, client.send(new iam.GetRoleCommand({RoleName: 'worker'})), 'NoSuchEntityException', 404)
})
