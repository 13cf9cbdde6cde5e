/**
 * Differential test: the same IAM/STS call sequence against the emulator and
 * against moto_server, responses compared after normalising what legitimately
 * differs (ids, dates, request ids, access keys and secrets). Where moto
 * differs from AWS, AWS wins: those cases are listed in MOTO_DIFFERS_FROM_AWS
 * with the reason, and checked against AWS's behaviour on the emulator side.
 */
import * as iam from '@aws-sdk/client-iam'
import * as sts from '@aws-sdk/client-sts'
import test from 'ava'
import {hasMoto, startMoto} from '../../helpers/moto.js'
import {emulator, iamClient, stsClient} from './helpers.js'

type Outcome = {ok: unknown} | {error: string; status?: number}

/**
 * Members that carry no information in these answers and that one side sends
 * and the other omits: IsTruncated false (AWS always sends it; moto often
 * not), PermissionsBoundaryUsageCount 0, empty Tags and RoleLastUsed.
 */
function uninformative(name: string, item: unknown): boolean {
  if (name === '$metadata') return true
  if (name === 'IsTruncated' && item === false) return true
  if (name === 'PermissionsBoundaryUsageCount' && item === 0) return true
  if ((name === 'Tags' && Array.isArray(item) && item.length === 0) || (name === 'RoleLastUsed' && item && Object.keys(item).length === 0))
    return true
  return false
}

/** List order is not specified by AWS for these calls: compare them sorted by name. */
const byName = (item: unknown) => {
  const record = item as Record<string, unknown>
  return String(record.RoleName ?? record.UserName ?? record.GroupName ?? record.PolicyName ?? record.InstanceProfileName ?? '')
}

/** Replaces values that differ by design between two correct implementations. */
function normalize(value: unknown, key = ''): unknown {
  if (value instanceof Date) return '<date>'
  if (Array.isArray(value)) return value.map((item) => normalize(item)).sort((a, b) => byName(a).localeCompare(byName(b)))
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([name, item]) => !uninformative(name, item))
        .map(([name, item]) => [name, normalize(item, name)]),
    )
  }
  if (typeof value === 'string') {
    if (/^(UserId|GroupId|RoleId|PolicyId|InstanceProfileId|AccessKeyId)$/.test(key)) return `<${key}>`
    if (key === 'SecretAccessKey' || key === 'SessionToken') return `<${key}>`
    if (key === 'AssumedRoleId') return value.replace(/^AROA[A-Z0-9]+/, '<RoleId>')
    if (key === 'Expiration') return '<date>'
    if (key === 'Marker') return '<marker>'
    if (/Document$/.test(key)) return JSON.parse(decodeURIComponent(value))
  }
  return value
}

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    return {ok: normalize(await call)}
  } catch (error) {
    return {error: (error as Error).name, status: (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode}
  }
}

const policy = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*'}]})
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})
const accountTrust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'sts:AssumeRole'}],
})

/** The sequence, as named steps; each returns the SDK call's promise. */
function sequence(endpoint: string): [string, () => Promise<unknown>][] {
  const c = iamClient(endpoint)
  const s = stsClient(endpoint)
  return [
    ['CreateUser', () => c.send(new iam.CreateUserCommand({UserName: 'alice', Path: '/lab/'}))],
    ['CreateUser duplicate', () => c.send(new iam.CreateUserCommand({UserName: 'alice'}))],
    ['GetUser', () => c.send(new iam.GetUserCommand({UserName: 'alice'}))],
    ['GetUser missing', () => c.send(new iam.GetUserCommand({UserName: 'nobody'}))],
    ['CreateUser bob', () => c.send(new iam.CreateUserCommand({UserName: 'bob'}))],
    ['ListUsers', () => c.send(new iam.ListUsersCommand({}))],
    ['ListUsers page', () => c.send(new iam.ListUsersCommand({MaxItems: 1}))],
    ['CreateGroup', () => c.send(new iam.CreateGroupCommand({GroupName: 'alpha'}))],
    ['CreateGroup duplicate', () => c.send(new iam.CreateGroupCommand({GroupName: 'alpha'}))],
    ['AddUserToGroup', () => c.send(new iam.AddUserToGroupCommand({GroupName: 'alpha', UserName: 'alice'}))],
    ['GetGroup', () => c.send(new iam.GetGroupCommand({GroupName: 'alpha'}))],
    ['ListGroupsForUser', () => c.send(new iam.ListGroupsForUserCommand({UserName: 'alice'}))],
    ['ListGroups', () => c.send(new iam.ListGroupsCommand({}))],
    ['PutUserPolicy', () => c.send(new iam.PutUserPolicyCommand({UserName: 'alice', PolicyName: 'read', PolicyDocument: policy}))],
    ['GetUserPolicy', () => c.send(new iam.GetUserPolicyCommand({UserName: 'alice', PolicyName: 'read'}))],
    ['ListUserPolicies', () => c.send(new iam.ListUserPoliciesCommand({UserName: 'alice'}))],
    ['GetUserPolicy missing', () => c.send(new iam.GetUserPolicyCommand({UserName: 'alice', PolicyName: 'none'}))],
    ['PutGroupPolicy', () => c.send(new iam.PutGroupPolicyCommand({GroupName: 'alpha', PolicyName: 'g', PolicyDocument: policy}))],
    ['GetGroupPolicy', () => c.send(new iam.GetGroupPolicyCommand({GroupName: 'alpha', PolicyName: 'g'}))],
    ['ListGroupPolicies', () => c.send(new iam.ListGroupPoliciesCommand({GroupName: 'alpha'}))],
    ['CreatePolicy', () => c.send(new iam.CreatePolicyCommand({PolicyName: 'managed', PolicyDocument: policy}))],
    ['GetPolicy', () => c.send(new iam.GetPolicyCommand({PolicyArn: 'arn:aws:iam::000000000000:policy/managed'}))],
    [
      'GetPolicyVersion',
      () => c.send(new iam.GetPolicyVersionCommand({PolicyArn: 'arn:aws:iam::000000000000:policy/managed', VersionId: 'v1'})),
    ],
    [
      'AttachUserPolicy',
      () => c.send(new iam.AttachUserPolicyCommand({UserName: 'alice', PolicyArn: 'arn:aws:iam::000000000000:policy/managed'})),
    ],
    ['ListAttachedUserPolicies', () => c.send(new iam.ListAttachedUserPoliciesCommand({UserName: 'alice'}))],
    ['ListPolicies local', () => c.send(new iam.ListPoliciesCommand({Scope: 'Local'}))],
    ['DeletePolicy attached', () => c.send(new iam.DeletePolicyCommand({PolicyArn: 'arn:aws:iam::000000000000:policy/managed'}))],
    [
      'DetachUserPolicy',
      () => c.send(new iam.DetachUserPolicyCommand({UserName: 'alice', PolicyArn: 'arn:aws:iam::000000000000:policy/managed'})),
    ],
    ['CreateAccessKey', () => c.send(new iam.CreateAccessKeyCommand({UserName: 'alice'}))],
    ['ListAccessKeys', () => c.send(new iam.ListAccessKeysCommand({UserName: 'alice'}))],
    ['CreateLoginProfile', () => c.send(new iam.CreateLoginProfileCommand({UserName: 'alice', Password: 'a-long-password-1'}))],
    ['GetLoginProfile', () => c.send(new iam.GetLoginProfileCommand({UserName: 'alice'}))],
    ['GetLoginProfile missing', () => c.send(new iam.GetLoginProfileCommand({UserName: 'bob'}))],
    ['DeleteUser with things', () => c.send(new iam.DeleteUserCommand({UserName: 'alice'}))],
    ['DeleteGroup with members', () => c.send(new iam.DeleteGroupCommand({GroupName: 'alpha'}))],
    ['CreateRole', () => c.send(new iam.CreateRoleCommand({RoleName: 'worker', AssumeRolePolicyDocument: trust, Path: '/ncap/'}))],
    ['GetRole', () => c.send(new iam.GetRoleCommand({RoleName: 'worker'}))],
    ['CreateInstanceProfile', () => c.send(new iam.CreateInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))],
    [
      'AddRoleToInstanceProfile',
      () => c.send(new iam.AddRoleToInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'})),
    ],
    ['GetInstanceProfile', () => c.send(new iam.GetInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))],
    ['DeleteRole in profile', () => c.send(new iam.DeleteRoleCommand({RoleName: 'worker'}))],
    [
      'RemoveRoleFromInstanceProfile',
      () => c.send(new iam.RemoveRoleFromInstanceProfileCommand({InstanceProfileName: 'worker-profile', RoleName: 'worker'})),
    ],
    ['DeleteInstanceProfile', () => c.send(new iam.DeleteInstanceProfileCommand({InstanceProfileName: 'worker-profile'}))],
    ['ListInstanceProfiles', () => c.send(new iam.ListInstanceProfilesCommand({}))],
    ['CreateRole assumable', () => c.send(new iam.CreateRoleCommand({RoleName: 'reader', AssumeRolePolicyDocument: accountTrust}))],
    ['ListRoles', () => c.send(new iam.ListRolesCommand({}))],
    ['GetAccountPasswordPolicy', () => c.send(new iam.GetAccountPasswordPolicyCommand({}))],
    ['GetCallerIdentity', () => s.send(new sts.GetCallerIdentityCommand({}))],
    [
      'AssumeRole',
      () =>
        s.send(new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/reader', RoleSessionName: 'job', DurationSeconds: 900})),
    ],
    [
      'CreateUser tagged and bounded',
      () =>
        c.send(
          new iam.CreateUserCommand({
            UserName: 'carol',
            PermissionsBoundary: 'arn:aws:iam::000000000000:policy/managed',
            Tags: [{Key: 'team', Value: 'lab'}],
          }),
        ),
    ],
    ['GetUser tagged', () => c.send(new iam.GetUserCommand({UserName: 'carol'}))],
    ['TagUser', () => c.send(new iam.TagUserCommand({UserName: 'carol', Tags: [{Key: 'cost', Value: '7'}]}))],
    ['ListUserTags', () => c.send(new iam.ListUserTagsCommand({UserName: 'carol'}))],
    ['UntagUser', () => c.send(new iam.UntagUserCommand({UserName: 'carol', TagKeys: ['team']}))],
    ['ListUserTags after untag', () => c.send(new iam.ListUserTagsCommand({UserName: 'carol'}))],
    ['TagUser missing', () => c.send(new iam.TagUserCommand({UserName: 'nobody', Tags: [{Key: 'a', Value: 'b'}]}))],
    ['TagRole', () => c.send(new iam.TagRoleCommand({RoleName: 'reader', Tags: [{Key: 'tier', Value: 'gold'}]}))],
    ['ListRoleTags', () => c.send(new iam.ListRoleTagsCommand({RoleName: 'reader'}))],
    [
      'PutRolePermissionsBoundary',
      () =>
        c.send(
          new iam.PutRolePermissionsBoundaryCommand({RoleName: 'reader', PermissionsBoundary: 'arn:aws:iam::000000000000:policy/managed'}),
        ),
    ],
    ['DeleteRolePermissionsBoundary', () => c.send(new iam.DeleteRolePermissionsBoundaryCommand({RoleName: 'reader'}))],
    ['DeleteUserPermissionsBoundary', () => c.send(new iam.DeleteUserPermissionsBoundaryCommand({UserName: 'carol'}))],
    ['DeleteRole', () => c.send(new iam.DeleteRoleCommand({RoleName: 'worker'}))],
    ['GetRole deleted', () => c.send(new iam.GetRoleCommand({RoleName: 'worker'}))],
  ]
}

/** Steps where moto answers differently from AWS; the emulator follows AWS. */
const MOTO_DIFFERS_FROM_AWS: Record<string, string> = {
  'CreateUser tagged and bounded': "moto drops a user's PermissionsBoundary; AWS stores it and returns it",
  'GetUser tagged': 'follows from the step above',
  DeleteUserPermissionsBoundary: 'moto fails with an internal error (500); AWS removes the boundary',
  'ListUsers page': 'moto ignores MaxItems; AWS returns one user, IsTruncated and a Marker',
  'DeletePolicy attached': 'moto deletes an attached policy; AWS refuses with DeleteConflict (409)',
  DetachUserPolicy: 'follows from the step above: the policy is gone in moto',
  'DeleteUser with things':
    'moto deletes a user that has keys, policies, a login profile and groups; AWS refuses with DeleteConflict (409)',
  'DeleteGroup with members': 'follows from the step above: the group has no members left in moto',
  GetCallerIdentity: 'moto answers as its default user/moto; for the account root AWS answers arn:aws:iam::<account>:root',
  AssumeRole: 'moto adds PackedPolicySize although no session policy was passed; AWS sends it only with one',
}

/** What AWS answers at those steps, checked on the emulator instead. */
const BOUNDARY = {PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: 'arn:aws:iam::000000000000:policy/managed'}
const AWS_ANSWERS: Record<string, object> = {
  'CreateUser tagged and bounded': {ok: {User: {PermissionsBoundary: BOUNDARY, Tags: [{Key: 'team', Value: 'lab'}]}}},
  'GetUser tagged': {ok: {User: {PermissionsBoundary: BOUNDARY}}},
  DeleteUserPermissionsBoundary: {ok: {}},
  'ListUsers page': {ok: {IsTruncated: true, Marker: '<marker>'}},
  'DeletePolicy attached': {error: 'DeleteConflictException', status: 409},
  'DeleteUser with things': {error: 'DeleteConflictException', status: 409},
  'DeleteGroup with members': {error: 'DeleteConflictException', status: 409},
  DetachUserPolicy: {ok: {}},
  GetCallerIdentity: {ok: {Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root'}},
  AssumeRole: {ok: {AssumedRoleUser: {Arn: 'arn:aws:sts::000000000000:assumed-role/reader/job'}}},
}

test('IAM and STS sequence: same answers as moto_server after normalising ids, dates and keys', async (t) => {
  if (!hasMoto()) {
    t.log('moto_server is not installed; differential test skipped')
    t.pass()
    return
  }
  const moto = await startMoto({env: {MOTO_ACCOUNT_ID: '000000000000'}})
  t.teardown(() => moto.stop())
  const {server} = await emulator()
  t.teardown(() => server.close())
  const ours = sequence(server.endpoint)
  const theirs = sequence(moto.endpoint)
  let compared = 0
  const differences: string[] = []
  for (const [index, [name, call]] of ours.entries()) {
    const mine = await outcome(call())
    const reference = await outcome(theirs[index]![1]())
    if (name in MOTO_DIFFERS_FROM_AWS) {
      t.log(`${name}: moto differs from AWS (${MOTO_DIFFERS_FROM_AWS[name]}); ours ${JSON.stringify(mine)}`)
      const expected = AWS_ANSWERS[name]
      if (expected) t.like(mine as object, expected, `${name}: AWS's answer`)
      continue
    }
    if (JSON.stringify(mine) === JSON.stringify(reference)) compared++
    else differences.push(`${name}:\n  ours ${JSON.stringify(mine)}\n  moto ${JSON.stringify(reference)}`)
  }
  t.log(`${compared} of ${ours.length} steps identical to moto_server`)
  t.deepEqual(differences, [])
})
