/**
 * IAM fidelity with the real SDK v3 clients: the optional members of the Create
 * calls stored and returned, tags on every taggable kind, permissions
 * boundaries set and enforced (users and assumed roles), signing certificates,
 * role updates, and the unsigned STS federation calls reaching STS.
 */
import * as iam from '@aws-sdk/client-iam'
import * as sts from '@aws-sdk/client-sts'
import test from 'ava'
import type {RunningServer} from '../../../src/emulator/server.js'
import {identityFor} from '../../../src/emulator/services/iam/index.js'
import {findInstanceProfile} from '../../../src/emulator/services/iam/roles.js'
import {CERTIFICATE_1, CERTIFICATE_2, CERTIFICATE_3} from './certificates.js'
import {emulator, iamClient, type Keys, rejects, stsClient} from './helpers.js'

let server: RunningServer
let stateDir: string
let client: iam.IAMClient
test.before(async () => {
  ;({server, stateDir} = await emulator())
  client = iamClient(server.endpoint)
})
test.after.always(async () => server?.close())

const document = (...Statement: object[]) => JSON.stringify({Version: '2012-10-17', Statement})
const allow = (Action: string | string[], Resource = '*') => ({Effect: 'Allow', Action, Resource})
const ACCOUNT_TRUST = document({Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'sts:AssumeRole'})

async function keysFor(userName: string): Promise<Keys> {
  const key = (await client.send(new iam.CreateAccessKeyCommand({UserName: userName}))).AccessKey!
  return {accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey!}
}

test('CreateUser and CreateRole keep Path, PermissionsBoundary, Tags, Description, MaxSessionDuration; Get returns them, List leaves out what AWS leaves out', async (t) => {
  const boundary = (
    await client.send(
      new iam.CreatePolicyCommand({PolicyName: 'fid-cap', PolicyDocument: document(allow('s3:*')), Tags: [{Key: 'p', Value: '1'}]}),
    )
  ).Policy!
  t.deepEqual(boundary.Tags, [{Key: 'p', Value: '1'}])
  const tags = [
    {Key: 'team', Value: 'lab'},
    {Key: 'cost', Value: '42'},
  ]
  const user = await client.send(
    new iam.CreateUserCommand({UserName: 'fid-ana', Path: '/fid/', PermissionsBoundary: boundary.Arn, Tags: tags}),
  )
  t.is(user.User!.Path, '/fid/')
  t.deepEqual(user.User!.Tags, tags)
  t.deepEqual(user.User!.PermissionsBoundary, {PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: boundary.Arn})
  const got = (await client.send(new iam.GetUserCommand({UserName: 'fid-ana'}))).User!
  t.deepEqual(got.Tags, tags)
  t.is(got.PermissionsBoundary?.PermissionsBoundaryArn, boundary.Arn)
  const listed = (await client.send(new iam.ListUsersCommand({PathPrefix: '/fid/'}))).Users!
  t.deepEqual(
    listed.map((u) => [u.UserName, u.Path, u.Tags, u.PermissionsBoundary]),
    [['fid-ana', '/fid/', undefined, undefined]],
    'ListUsers, as on AWS, returns no tags or boundary',
  )
  const role = await client.send(
    new iam.CreateRoleCommand({
      RoleName: 'fid-role',
      Path: '/fid/',
      AssumeRolePolicyDocument: ACCOUNT_TRUST,
      Description: 'for fidelity',
      MaxSessionDuration: 7200,
      PermissionsBoundary: boundary.Arn,
      Tags: tags,
    }),
  )
  t.is(role.Role!.Arn, 'arn:aws:iam::000000000000:role/fid/fid-role')
  t.deepEqual(role.Role!.Tags, tags)
  const gotRole = (await client.send(new iam.GetRoleCommand({RoleName: 'fid-role'}))).Role!
  t.is(gotRole.Description, 'for fidelity')
  t.is(gotRole.MaxSessionDuration, 7200)
  t.is(gotRole.PermissionsBoundary?.PermissionsBoundaryArn, boundary.Arn)
  t.deepEqual(gotRole.Tags, tags)
  const listedRole = (await client.send(new iam.ListRolesCommand({PathPrefix: '/fid/'}))).Roles![0]!
  t.is(listedRole.Description, 'for fidelity')
  t.is(listedRole.MaxSessionDuration, 7200)
  t.is(listedRole.Tags, undefined)
  const policy = (await client.send(new iam.GetPolicyCommand({PolicyArn: boundary.Arn}))).Policy!
  t.is(policy.PermissionsBoundaryUsageCount, 2)
  await rejects(t, client.send(new iam.DeletePolicyCommand({PolicyArn: boundary.Arn})), 'DeleteConflictException', 409)
  await rejects(
    t,
    client.send(new iam.CreateUserCommand({UserName: 'fid-x', PermissionsBoundary: 'arn:aws:iam::000000000000:policy/none'})),
    'NoSuchEntityException',
    404,
  )
  await client.send(new iam.UpdateRoleCommand({RoleName: 'fid-role', MaxSessionDuration: 3600, Description: 'shorter'}))
  const updated = (await client.send(new iam.GetRoleCommand({RoleName: 'fid-role'}))).Role!
  t.is(updated.MaxSessionDuration, 3600)
  t.is(updated.Description, 'shorter')
  await rejects(t, client.send(new iam.UpdateRoleCommand({RoleName: 'fid-role', MaxSessionDuration: 60})), 'ValidationError')
})

test('tags on users, roles, policies and instance profiles: tag, replace regardless of case, untag, list, limits', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'fid-tagged'}))
  await client.send(new iam.CreateRoleCommand({RoleName: 'fid-tagged', AssumeRolePolicyDocument: ACCOUNT_TRUST}))
  const policyArn = (
    await client.send(new iam.CreatePolicyCommand({PolicyName: 'fid-tagged', PolicyDocument: document(allow('s3:GetObject'))}))
  ).Policy!.Arn!
  await client.send(new iam.CreateInstanceProfileCommand({InstanceProfileName: 'fid-tagged', Tags: [{Key: 'k', Value: 'v'}]}))
  t.deepEqual((await client.send(new iam.GetInstanceProfileCommand({InstanceProfileName: 'fid-tagged'}))).InstanceProfile!.Tags, [
    {Key: 'k', Value: 'v'},
  ])
  const kinds: [
    string,
    () => Promise<unknown>,
    (tags: iam.Tag[]) => Promise<unknown>,
    (keys: string[]) => Promise<unknown>,
    () => Promise<iam.Tag[]>,
  ][] = [
    [
      'user',
      () => client.send(new iam.GetUserCommand({UserName: 'fid-tagged'})),
      (Tags) => client.send(new iam.TagUserCommand({UserName: 'fid-tagged', Tags})),
      (TagKeys) => client.send(new iam.UntagUserCommand({UserName: 'fid-tagged', TagKeys})),
      async () => (await client.send(new iam.ListUserTagsCommand({UserName: 'fid-tagged'}))).Tags!,
    ],
    [
      'role',
      () => client.send(new iam.GetRoleCommand({RoleName: 'fid-tagged'})),
      (Tags) => client.send(new iam.TagRoleCommand({RoleName: 'fid-tagged', Tags})),
      (TagKeys) => client.send(new iam.UntagRoleCommand({RoleName: 'fid-tagged', TagKeys})),
      async () => (await client.send(new iam.ListRoleTagsCommand({RoleName: 'fid-tagged'}))).Tags!,
    ],
    [
      'policy',
      () => client.send(new iam.GetPolicyCommand({PolicyArn: policyArn})),
      (Tags) => client.send(new iam.TagPolicyCommand({PolicyArn: policyArn, Tags})),
      (TagKeys) => client.send(new iam.UntagPolicyCommand({PolicyArn: policyArn, TagKeys})),
      async () => (await client.send(new iam.ListPolicyTagsCommand({PolicyArn: policyArn}))).Tags!,
    ],
    [
      'instance profile',
      () => client.send(new iam.GetInstanceProfileCommand({InstanceProfileName: 'fid-tagged'})),
      (Tags) => client.send(new iam.TagInstanceProfileCommand({InstanceProfileName: 'fid-tagged', Tags})),
      (TagKeys) => client.send(new iam.UntagInstanceProfileCommand({InstanceProfileName: 'fid-tagged', TagKeys})),
      async () => (await client.send(new iam.ListInstanceProfileTagsCommand({InstanceProfileName: 'fid-tagged'}))).Tags!,
    ],
  ]
  for (const [kind, , tag, untag, list] of kinds) {
    await tag([
      {Key: 'Env', Value: 'dev'},
      {Key: 'owner', Value: 'ana'},
    ])
    await tag([{Key: 'env', Value: 'prod'}])
    const tags = await list()
    t.deepEqual(
      tags.filter((item) => item.Key !== 'k'),
      [
        {Key: 'env', Value: 'prod'},
        {Key: 'owner', Value: 'ana'},
      ],
      `${kind}: a key differing only in case replaces the tag`,
    )
    await untag(['OWNER'])
    t.false(
      (await list()).some((item) => item.Key === 'owner'),
      `${kind}: untag matches keys regardless of case`,
    )
    await rejects(
      t,
      tag([
        {Key: 'dup', Value: '1'},
        {Key: 'DUP', Value: '2'},
      ]),
      'InvalidInputException',
    )
    await rejects(t, tag(Array.from({length: 51}, (_, index) => ({Key: `k${index}`, Value: 'v'}))), 'LimitExceededException')
  }
  await rejects(
    t,
    client.send(new iam.TagUserCommand({UserName: 'fid-nobody', Tags: [{Key: 'a', Value: 'b'}]})),
    'NoSuchEntityException',
    404,
  )
})

test('a user refused by its permissions boundary although its identity policy allows the action', async (t) => {
  const cap = (
    await client.send(new iam.CreatePolicyCommand({PolicyName: 'fid-list-users-only', PolicyDocument: document(allow('iam:ListUsers'))}))
  ).Policy!.Arn!
  await client.send(new iam.CreateUserCommand({UserName: 'fid-bounded'}))
  await client.send(
    new iam.PutUserPolicyCommand({
      UserName: 'fid-bounded',
      PolicyName: 'broad',
      PolicyDocument: document(allow(['iam:ListUsers', 'iam:ListRoles'])),
    }),
  )
  const keys = await keysFor('fid-bounded')
  const bounded = iamClient(server.endpoint, keys)
  await bounded.send(new iam.ListRolesCommand({}))
  await client.send(new iam.PutUserPermissionsBoundaryCommand({UserName: 'fid-bounded', PermissionsBoundary: cap}))
  await bounded.send(new iam.ListUsersCommand({}))
  const error = await t.throwsAsync(bounded.send(new iam.ListRolesCommand({})))
  t.is(error?.name, 'AccessDenied')
  t.regex(error?.message ?? '', /fid-bounded is not authorized to perform: iam:ListRoles/)
  // The boundary alone grants nothing.
  await client.send(new iam.DeleteUserPolicyCommand({UserName: 'fid-bounded', PolicyName: 'broad'}))
  await rejects(t, bounded.send(new iam.ListUsersCommand({})), 'AccessDenied', 403)
  await client.send(
    new iam.PutUserPolicyCommand({
      UserName: 'fid-bounded',
      PolicyName: 'broad',
      PolicyDocument: document(allow(['iam:ListUsers', 'iam:ListRoles'])),
    }),
  )
  await client.send(new iam.DeleteUserPermissionsBoundaryCommand({UserName: 'fid-bounded'}))
  await bounded.send(new iam.ListRolesCommand({}))
  t.is((await client.send(new iam.GetUserCommand({UserName: 'fid-bounded'}))).User!.PermissionsBoundary, undefined)
})

test("an assumed role's boundary caps its session; RoleLastUsed records the assumption", async (t) => {
  const cap = (
    await client.send(new iam.CreatePolicyCommand({PolicyName: 'fid-role-cap', PolicyDocument: document(allow('iam:ListUsers'))}))
  ).Policy!.Arn!
  await client.send(new iam.CreateRoleCommand({RoleName: 'fid-capped', AssumeRolePolicyDocument: ACCOUNT_TRUST, PermissionsBoundary: cap}))
  await client.send(
    new iam.PutRolePolicyCommand({
      RoleName: 'fid-capped',
      PolicyName: 'broad',
      PolicyDocument: document(allow(['iam:ListUsers', 'iam:ListRoles'])),
    }),
  )
  const session = await stsClient(server.endpoint).send(
    new sts.AssumeRoleCommand({RoleArn: 'arn:aws:iam::000000000000:role/fid-capped', RoleSessionName: 'capped'}),
  )
  const credentials = session.Credentials!
  const assumed = iamClient(server.endpoint, {
    accessKeyId: credentials.AccessKeyId!,
    secretAccessKey: credentials.SecretAccessKey!,
    sessionToken: credentials.SessionToken!,
  })
  await assumed.send(new iam.ListUsersCommand({}))
  await rejects(t, assumed.send(new iam.ListRolesCommand({})), 'AccessDenied', 403)
  const role = (await client.send(new iam.GetRoleCommand({RoleName: 'fid-capped'}))).Role!
  t.true(role.RoleLastUsed?.LastUsedDate instanceof Date)
  t.is(role.RoleLastUsed?.Region, 'us-east-1')
  await client.send(new iam.DeleteRolePermissionsBoundaryCommand({RoleName: 'fid-capped'}))
  await assumed.send(new iam.ListRolesCommand({}))
})

test('signing certificates: upload, list, deactivate, delete; malformed, duplicate and third certificates refused', async (t) => {
  await client.send(new iam.CreateUserCommand({UserName: 'fid-signer'}))
  const first = (await client.send(new iam.UploadSigningCertificateCommand({UserName: 'fid-signer', CertificateBody: CERTIFICATE_1})))
    .Certificate!
  t.is(first.Status, 'Active')
  t.regex(first.CertificateId!, /^[A-Z0-9]{24}$/)
  t.true(first.UploadDate instanceof Date)
  await rejects(
    t,
    client.send(new iam.UploadSigningCertificateCommand({UserName: 'fid-signer', CertificateBody: CERTIFICATE_1})),
    'DuplicateCertificateException',
    409,
  )
  await rejects(
    t,
    client.send(
      new iam.UploadSigningCertificateCommand({
        UserName: 'fid-signer',
        CertificateBody: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----',
      }),
    ),
    'MalformedCertificateException',
    400,
  )
  await client.send(new iam.UploadSigningCertificateCommand({UserName: 'fid-signer', CertificateBody: CERTIFICATE_2}))
  await rejects(
    t,
    client.send(new iam.UploadSigningCertificateCommand({UserName: 'fid-signer', CertificateBody: CERTIFICATE_3})),
    'LimitExceededException',
    409,
  )
  await client.send(
    new iam.UpdateSigningCertificateCommand({UserName: 'fid-signer', CertificateId: first.CertificateId, Status: 'Inactive'}),
  )
  const listed = (await client.send(new iam.ListSigningCertificatesCommand({UserName: 'fid-signer'}))).Certificates!
  t.deepEqual(
    listed.map((certificate) => certificate.Status),
    ['Inactive', 'Active'],
  )
  t.is(listed[0]!.CertificateBody, CERTIFICATE_1)
  await rejects(t, client.send(new iam.DeleteUserCommand({UserName: 'fid-signer'})), 'DeleteConflictException', 409)
  for (const certificate of listed)
    await client.send(new iam.DeleteSigningCertificateCommand({UserName: 'fid-signer', CertificateId: certificate.CertificateId}))
  await rejects(
    t,
    client.send(new iam.DeleteSigningCertificateCommand({UserName: 'fid-signer', CertificateId: first.CertificateId})),
    'NoSuchEntityException',
    404,
  )
  await client.send(new iam.DeleteUserCommand({UserName: 'fid-signer'}))
})

test('unsigned AssumeRoleWithWebIdentity and AssumeRoleWithSAML reach STS and get its own errors', async (t) => {
  const anonymous = stsClient(server.endpoint)
  const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const jwt = `${b64url({alg: 'RS256'})}.${b64url({iss: 'https://idp.example.com', sub: 'me'})}.c2ln`
  const web = await t.throwsAsync(
    anonymous.send(
      new sts.AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/fid-role',
        RoleSessionName: 'web',
        WebIdentityToken: jwt,
      }),
    ),
  )
  t.is(web?.name, 'InvalidIdentityTokenException')
  t.regex(web?.message ?? '', /https:\/\/idp\.example\.com/)
  const saml = await t.throwsAsync(
    anonymous.send(
      new sts.AssumeRoleWithSAMLCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/fid-role',
        PrincipalArn: 'arn:aws:iam::000000000000:saml-provider/idp',
        SAMLAssertion: Buffer.from('<Response></Response>').toString('base64'),
      }),
    ),
  )
  t.is(saml?.name, 'InvalidIdentityTokenException')
  // Any other unsigned Query request is still refused by the core.
  const response = await fetch(`${server.endpoint}/`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  })
  t.is(response.status, 403)
  t.regex(await response.text(), /MissingAuthenticationToken/)
})

test('instance profiles are found by name or ARN with their role (the API EC2 uses)', async (t) => {
  await client.send(new iam.CreateRoleCommand({RoleName: 'fid-instance', AssumeRolePolicyDocument: ACCOUNT_TRUST}))
  const profile = (await client.send(new iam.CreateInstanceProfileCommand({InstanceProfileName: 'fid-instance', Path: '/p/'})))
    .InstanceProfile!
  await client.send(new iam.AddRoleToInstanceProfileCommand({InstanceProfileName: 'fid-instance', RoleName: 'fid-instance'}))
  const {state} = await identityFor(stateDir)
  t.is(findInstanceProfile(state, 'fid-instance')?.role?.RoleName, 'fid-instance')
  t.is(findInstanceProfile(state, profile.Arn!)?.profile.InstanceProfileName, 'fid-instance')
  t.is(findInstanceProfile(state, 'fid-none'), undefined)
})
