/**
 * STS against botocore's model: GetCallerIdentity, AssumeRole (with session
 * policies) and GetSessionToken through boto3 as the root account, an IAM user
 * and an assumed role; every other STS operation refused with InvalidAction.
 */
import test from 'ava'
import {STS_ACTIONS} from '../../../src/emulator/services/sts/handler.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

const ACCOUNT = '000000000000'
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/conf-assumable`
const MANAGED_ARN = `arn:aws:iam::${ACCOUNT}:policy/conf-session`
const document = (statement: Record<string, unknown>) => JSON.stringify({Version: '2012-10-17', Statement: [statement]})
const TRUST_ACCOUNT = document({Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNT}:root`}, Action: 'sts:AssumeRole'})
const MAY_ASSUME = document({Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE_ARN})
const LIST_USERS = document({Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*'})
const LIST_ROLES = document({Effect: 'Allow', Action: 'iam:ListRoles', Resource: '*'})

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
const JWT = `${b64url({alg: 'RS256', typ: 'JWT'})}.${b64url({iss: 'https://token.example.com', sub: 'user', aud: 'ncap'})}.c2ln`
const SAML = Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"></samlp:Response>').toString('base64')
const SAML_PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/conf-idp`

let counter = 0
const call = (service: Step['service'], op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service,
  op,
  params,
})
const keysOf = (id: string, member: 'AccessKey' | 'Credentials') => ({
  accessKeyId: ref(id, `${member}.AccessKeyId`),
  secretAccessKey: ref(id, `${member}.SecretAccessKey`),
  ...(member === 'Credentials' ? {sessionToken: ref(id, 'Credentials.SessionToken')} : {}),
})
const as = (step: Step, creds: Step['creds']): Step => ({...step, creds})
const fails = (step: Step, expect: string): Step => ({...step, expect})
const assume = (params: Record<string, unknown> = {}) => ({RoleArn: ROLE_ARN, RoleSessionName: 'conformance', ...params})

const steps: Step[] = [
  call('sts', 'GetCallerIdentity'),
  // A role the account trusts, a user allowed to assume it, and a managed policy to narrow sessions with.
  call('iam', 'CreateRole', {RoleName: 'conf-assumable', AssumeRolePolicyDocument: TRUST_ACCOUNT}),
  call('iam', 'PutRolePolicy', {
    RoleName: 'conf-assumable',
    PolicyName: 'read-iam',
    PolicyDocument: document({Effect: 'Allow', Action: ['iam:ListUsers', 'iam:ListRoles'], Resource: '*'}),
  }),
  call('iam', 'CreatePolicy', {PolicyName: 'conf-session', PolicyDocument: LIST_ROLES}),
  call('iam', 'CreateUser', {UserName: 'conf-bob'}),
  call('iam', 'PutUserPolicy', {UserName: 'conf-bob', PolicyName: 'assume', PolicyDocument: MAY_ASSUME}),
  call('iam', 'CreateAccessKey', {UserName: 'conf-bob'}, 'bobKey'),
  as(call('sts', 'GetCallerIdentity'), keysOf('bobKey', 'AccessKey')),
  call('sts', 'AssumeRole', assume({DurationSeconds: 900})),
  as(call('sts', 'AssumeRole', assume(), 'bobSession'), keysOf('bobKey', 'AccessKey')),
  as(call('sts', 'GetCallerIdentity'), keysOf('bobSession', 'Credentials')),
  // Session policies narrow the role: the inline one allows only ListUsers, the managed one only ListRoles.
  call('sts', 'AssumeRole', assume({Policy: LIST_USERS}), 'inlineSession'),
  as(call('iam', 'ListUsers'), keysOf('inlineSession', 'Credentials')),
  fails(as(call('iam', 'ListRoles'), keysOf('inlineSession', 'Credentials')), 'AccessDenied'),
  call('sts', 'AssumeRole', assume({PolicyArns: [{arn: MANAGED_ARN}]}), 'managedSession'),
  as(call('iam', 'ListRoles'), keysOf('managedSession', 'Credentials')),
  fails(as(call('iam', 'ListUsers'), keysOf('managedSession', 'Credentials')), 'AccessDenied'),
  fails(call('sts', 'AssumeRole', assume({Policy: '{"Statement": ['})), 'MalformedPolicyDocumentException'),
  fails(call('sts', 'AssumeRole', assume({Policy: document({Effect: 'Allow', Resource: '*'})})), 'MalformedPolicyDocumentException'),
  fails(call('sts', 'AssumeRole', assume({RoleArn: `arn:aws:iam::${ACCOUNT}:role/conf-nobody`})), 'AccessDenied'),
  as(call('sts', 'GetSessionToken', {DurationSeconds: 900}, 'bobToken'), keysOf('bobKey', 'AccessKey')),
  as(call('sts', 'GetCallerIdentity'), keysOf('bobToken', 'Credentials')),
  call('sts', 'GetAccessKeyInfo', {AccessKeyId: ref('bobKey', 'AccessKey.AccessKeyId')}),
  // Federation: boto3 sends these unsigned, as AWS serves them; STS answers with its own errors.
  fails(call('sts', 'AssumeRoleWithWebIdentity', {...assume(), WebIdentityToken: 'not-a-jwt'}), 'InvalidIdentityTokenException'),
  fails(call('sts', 'AssumeRoleWithWebIdentity', {...assume(), WebIdentityToken: JWT}), 'InvalidIdentityTokenException'),
  fails(
    call('sts', 'AssumeRoleWithWebIdentity', {...assume(), WebIdentityToken: JWT, Policy: '{"Statement": ['}),
    'MalformedPolicyDocumentException',
  ),
  fails(
    call('sts', 'AssumeRoleWithSAML', {RoleArn: ROLE_ARN, PrincipalArn: SAML_PROVIDER, SAMLAssertion: SAML}),
    'InvalidIdentityTokenException',
  ),
  fails(
    call('sts', 'AssumeRoleWithSAML', {RoleArn: ROLE_ARN, PrincipalArn: SAML_PROVIDER, SAMLAssertion: SAML, Policy: '['}),
    'MalformedPolicyDocumentException',
  ),
]

conformanceSuite(test, {
  service: 'sts',
  served: STS_ACTIONS,
  steps,
  alive: call('sts', 'GetCallerIdentity'),
  refusals: ['InvalidAction'],
  always: {GetCallerIdentityResponse: ['UserId', 'Account', 'Arn'], AssumeRoleResponse: ['Credentials', 'AssumedRoleUser']},
  errorOnly: {
    AssumeRoleWithWebIdentity: 'no OpenID Connect provider can be registered (CreateOpenIDConnectProvider is not served)',
    AssumeRoleWithSAML: 'no SAML provider can be registered (CreateSAMLProvider is not served)',
  },
  uninducible: {
    GetSessionToken: 'its only modeled error, RegionDisabledException, needs an STS region the account has disabled',
  },
})
