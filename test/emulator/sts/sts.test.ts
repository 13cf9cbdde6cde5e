// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${aws:username} is IAM policy-variable syntax, not a JS template
import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import * as iam from '@aws-sdk/client-iam'
import * as sts from '@aws-sdk/client-sts'
import test from 'ava'
import {emulator, iamClient, type Keys, rejects, stsClient} from '../iam/helpers.js'

const trustAccount = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'sts:AssumeRole'}],
})
const allow = (Action: string | string[], Resource = '*') =>
  JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action, Resource}]})

async function userWithKey(admin: iam.IAMClient, name: string, policy?: string): Promise<Keys> {
  await admin.send(new iam.CreateUserCommand({UserName: name}))
  if (policy) await admin.send(new iam.PutUserPolicyCommand({UserName: name, PolicyName: 'p', PolicyDocument: policy}))
  const key = await admin.send(new iam.CreateAccessKeyCommand({UserName: name}))
  return {accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey!}
}

test('GetCallerIdentity: root, a user with its own key; Inactive and deleted keys refused', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const root = await stsClient(server.endpoint).send(new sts.GetCallerIdentityCommand({}))
  t.deepEqual([root.Account, root.Arn, root.UserId], ['000000000000', 'arn:aws:iam::000000000000:root', '000000000000'])
  const admin = iamClient(server.endpoint)
  const keys = await userWithKey(admin, 'uma')
  const user = await admin.send(new iam.GetUserCommand({UserName: 'uma'}))
  const me = await stsClient(server.endpoint, keys).send(new sts.GetCallerIdentityCommand({}))
  t.deepEqual([me.Arn, me.UserId], ['arn:aws:iam::000000000000:user/uma', user.User!.UserId])
  await admin.send(new iam.UpdateAccessKeyCommand({UserName: 'uma', AccessKeyId: keys.accessKeyId, Status: 'Inactive'}))
  await rejects(t, stsClient(server.endpoint, keys).send(new sts.GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403)
  await admin.send(new iam.UpdateAccessKeyCommand({UserName: 'uma', AccessKeyId: keys.accessKeyId, Status: 'Active'}))
  t.truthy(await stsClient(server.endpoint, keys).send(new sts.GetCallerIdentityCommand({})))
  await admin.send(new iam.DeleteAccessKeyCommand({UserName: 'uma', AccessKeyId: keys.accessKeyId}))
  await rejects(t, stsClient(server.endpoint, keys).send(new sts.GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403)
})

test('IAM calls by a user are authorized by its policies (users and groups), ChangePassword acts on the caller', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const admin = iamClient(server.endpoint)
  const keys = await userWithKey(admin, 'vic', allow('iam:GetUser', 'arn:aws:iam::000000000000:user/vic'))
  const asVic = iamClient(server.endpoint, keys)
  t.is((await asVic.send(new iam.GetUserCommand({}))).User!.UserName, 'vic')
  await rejects(t, asVic.send(new iam.GetUserCommand({UserName: 'admin-ish'})), 'AccessDenied', 403)
  await rejects(t, asVic.send(new iam.CreateUserCommand({UserName: 'mallory'})), 'AccessDenied', 403)
  await admin.send(new iam.CreateGroupCommand({GroupName: 'creators'}))
  await admin.send(
    new iam.PutGroupPolicyCommand({
      GroupName: 'creators',
      PolicyName: 'c',
      PolicyDocument: allow('iam:CreateUser', 'arn:aws:iam::000000000000:user/m*'),
    }),
  )
  await admin.send(new iam.AddUserToGroupCommand({GroupName: 'creators', UserName: 'vic'}))
  await asVic.send(new iam.CreateUserCommand({UserName: 'mallory'}))
  await rejects(t, asVic.send(new iam.CreateUserCommand({UserName: 'oscar'})), 'AccessDenied', 403)
  const deny = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Deny', Action: 'iam:*', Resource: '*'}]})
  await admin.send(new iam.PutUserPolicyCommand({UserName: 'vic', PolicyName: 'deny', PolicyDocument: deny}))
  await rejects(t, asVic.send(new iam.CreateUserCommand({UserName: 'max'})), 'AccessDenied', 403)
  await admin.send(new iam.DeleteUserPolicyCommand({UserName: 'vic', PolicyName: 'deny'}))
  // ChangePassword: the caller's own login profile, authorized on its own ARN.
  await admin.send(new iam.CreateLoginProfileCommand({UserName: 'vic', Password: 'first-password'}))
  await rejects(
    t,
    asVic.send(new iam.ChangePasswordCommand({OldPassword: 'first-password', NewPassword: 'second-password'})),
    'AccessDenied',
    403,
  )
  await admin.send(
    new iam.PutUserPolicyCommand({
      UserName: 'vic',
      PolicyName: 'pw',
      PolicyDocument: allow('iam:ChangePassword', 'arn:aws:iam::*:user/${aws:username}'),
    }),
  )
  await rejects(
    t,
    asVic.send(new iam.ChangePasswordCommand({OldPassword: 'wrong-password', NewPassword: 'second-password'})),
    'InvalidUserTypeException',
    400,
  )
  await asVic.send(new iam.ChangePasswordCommand({OldPassword: 'first-password', NewPassword: 'second-password'}))
  await rejects(
    t,
    asVic.send(new iam.ChangePasswordCommand({OldPassword: 'first-password', NewPassword: 'third-password'})),
    'InvalidUserTypeException',
    400,
  )
})

test('AssumeRole: trust policy and identity policy both needed; credentials work, show the assumed role, and carry its policies', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const admin = iamClient(server.endpoint)
  const role = await admin.send(new iam.CreateRoleCommand({RoleName: 'reader', AssumeRolePolicyDocument: trustAccount}))
  await admin.send(new iam.AttachRolePolicyCommand({RoleName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'}))
  await admin.send(new iam.PutRolePolicyCommand({RoleName: 'reader', PolicyName: 'list-users', PolicyDocument: allow('iam:ListUsers')}))
  const roleArn = role.Role!.Arn!
  const without = await userWithKey(admin, 'wes')
  await rejects(
    t,
    stsClient(server.endpoint, without).send(new sts.AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 's1'})),
    'AccessDenied',
    403,
  )
  const withPolicy = await userWithKey(admin, 'xia', allow('sts:AssumeRole', roleArn))
  const assumed = await stsClient(server.endpoint, withPolicy).send(
    new sts.AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 'job-1', DurationSeconds: 900}),
  )
  const credentials = assumed.Credentials!
  t.regex(credentials.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/)
  t.true(credentials.Expiration! > new Date())
  t.is(assumed.AssumedRoleUser!.Arn, 'arn:aws:sts::000000000000:assumed-role/reader/job-1')
  t.is(assumed.AssumedRoleUser!.AssumedRoleId, `${role.Role!.RoleId}:job-1`)
  const session: Keys = {
    accessKeyId: credentials.AccessKeyId!,
    secretAccessKey: credentials.SecretAccessKey!,
    sessionToken: credentials.SessionToken!,
  }
  const who = await stsClient(server.endpoint, session).send(new sts.GetCallerIdentityCommand({}))
  t.is(who.Arn, 'arn:aws:sts::000000000000:assumed-role/reader/job-1')
  t.is(who.UserId, `${role.Role!.RoleId}:job-1`)
  t.truthy(await iamClient(server.endpoint, session).send(new iam.ListUsersCommand({})))
  await rejects(t, iamClient(server.endpoint, session).send(new iam.ListRolesCommand({})), 'AccessDenied', 403)
  // A trust policy naming someone else refuses even a caller whose own policy allows it.
  await admin.send(
    new iam.CreateRoleCommand({
      RoleName: 'private',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:user/zed'}, Action: 'sts:AssumeRole'}],
      }),
    }),
  )
  await admin.send(new iam.PutUserPolicyCommand({UserName: 'xia', PolicyName: 'p', PolicyDocument: allow('sts:AssumeRole')}))
  await rejects(
    t,
    stsClient(server.endpoint, withPolicy).send(
      new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/private', RoleSessionName: 's'}),
    ),
    'AccessDenied',
    403,
  )
  await rejects(
    t,
    stsClient(server.endpoint).send(new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/none', RoleSessionName: 's'})),
    'AccessDenied',
    403,
  )
  await rejects(
    t,
    stsClient(server.endpoint).send(new sts.AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 's', DurationSeconds: 60})),
    'ValidationError',
    400,
  )
  // Without the session token, the temporary key is refused.
  await rejects(
    t,
    stsClient(server.endpoint, {accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey}).send(
      new sts.GetCallerIdentityCommand({}),
    ),
    'InvalidClientTokenId',
    403,
  )
})

test('state persists across restarts (file mode 0600): users, keys, sessions; expired sessions refused', async (t) => {
  const first = await emulator()
  const admin = iamClient(first.server.endpoint)
  const keys = await userWithKey(admin, 'yara', allow('sts:AssumeRole'))
  await admin.send(new iam.CreateRoleCommand({RoleName: 'r', AssumeRolePolicyDocument: trustAccount}))
  const assumed = await stsClient(first.server.endpoint, keys).send(
    new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 'keep'}),
  )
  await first.server.close()
  const file = join(first.stateDir, 'iam', 'state.json')
  t.is((await stat(file)).mode & 0o777, 0o600)

  const second = await emulator(first.stateDir)
  const session: Keys = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  }
  t.is(
    (await stsClient(second.server.endpoint, keys).send(new sts.GetCallerIdentityCommand({}))).Arn,
    'arn:aws:iam::000000000000:user/yara',
  )
  t.is(
    (await stsClient(second.server.endpoint, session).send(new sts.GetCallerIdentityCommand({}))).Arn,
    'arn:aws:sts::000000000000:assumed-role/r/keep',
  )
  await second.server.close()

  // Move the session's expiry into the past, as time passing would.
  const data = JSON.parse(await readFile(file, 'utf8'))
  data.sessions[session.accessKeyId].Expiration = Date.now() - 1000
  await writeFile(file, JSON.stringify(data))
  const third = await emulator(first.stateDir)
  t.teardown(() => third.server.close())
  await rejects(t, stsClient(third.server.endpoint, session).send(new sts.GetCallerIdentityCommand({})), 'ExpiredToken', 403)
  t.truthy(await stsClient(third.server.endpoint, keys).send(new sts.GetCallerIdentityCommand({})))
})

test('GetSessionToken gives a user temporary credentials acting as itself; refused for root and sessions', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const keys = await userWithKey(iamClient(server.endpoint), 'zoe')
  const token = await stsClient(server.endpoint, keys).send(new sts.GetSessionTokenCommand({DurationSeconds: 900}))
  const session: Keys = {
    accessKeyId: token.Credentials!.AccessKeyId!,
    secretAccessKey: token.Credentials!.SecretAccessKey!,
    sessionToken: token.Credentials!.SessionToken!,
  }
  t.is((await stsClient(server.endpoint, session).send(new sts.GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::000000000000:user/zoe')
  await rejects(t, stsClient(server.endpoint, session).send(new sts.GetSessionTokenCommand({})), 'AccessDenied', 403)
  await rejects(t, stsClient(server.endpoint).send(new sts.GetSessionTokenCommand({})), 'AccessDenied', 403)
})

test('AssumeRole: a trust policy naming the user directly is enough alone, unless an identity policy explicitly denies', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const admin = iamClient(server.endpoint)
  const trustUser = (user: string) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::000000000000:user/${user}`}, Action: 'sts:AssumeRole'}],
    })
  // No identity policy at all: the trust policy names her, as within one AWS account that is enough.
  const kim = await userWithKey(admin, 'kim')
  await admin.send(new iam.CreateRoleCommand({RoleName: 'kims', AssumeRolePolicyDocument: trustUser('kim')}))
  const assumed = await stsClient(server.endpoint, kim).send(
    new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/kims', RoleSessionName: 'direct'}),
  )
  t.is(assumed.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/kims/direct')
  // Named by the account only: an identity policy is still needed.
  await admin.send(new iam.CreateRoleCommand({RoleName: 'accounts', AssumeRolePolicyDocument: trustAccount}))
  await rejects(
    t,
    stsClient(server.endpoint, kim).send(
      new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/accounts', RoleSessionName: 'x'}),
    ),
    'AccessDenied',
    403,
  )
  // Named directly, but her own policy explicitly denies: refused.
  const deny = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Deny', Action: 'sts:AssumeRole', Resource: '*'}]})
  const lee = await userWithKey(admin, 'lee', deny)
  await admin.send(new iam.CreateRoleCommand({RoleName: 'lees', AssumeRolePolicyDocument: trustUser('lee')}))
  await rejects(
    t,
    stsClient(server.endpoint, lee).send(new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/lees', RoleSessionName: 'x'})),
    'AccessDenied',
    403,
  )
})
