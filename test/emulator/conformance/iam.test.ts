/**
 * IAM against botocore's model: every served operation driven through boto3,
 * its answers checked against the output shape, its modeled errors provoked,
 * and every unserved operation refused with InvalidAction.
 */
import test from 'ava'
import {IAM_ACTIONS} from '../../../src/emulator/services/iam/handler.js'
import {CERTIFICATE_1, CERTIFICATE_2, CERTIFICATE_3} from '../iam/certificates.js'
import {ref} from './drive.js'
import type {Step} from './suite.js'
import {conformanceSuite} from './suite.js'

const document = (statement: Record<string, unknown>) => JSON.stringify({Version: '2012-10-17', Statement: [statement]})
const READ = document({Effect: 'Allow', Action: 's3:GetObject', Resource: '*'})
const READ_AND_LIST = document({Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*'})
const TRUST = document({Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'})
const CHANGE_OWN_PASSWORD = document({Effect: 'Allow', Action: 'iam:ChangePassword', Resource: '*'})
const POLICY_ARN = 'arn:aws:iam::000000000000:policy/conf/conf-read'
const MISSING_POLICY_ARN = 'arn:aws:iam::000000000000:policy/conf-missing'

let counter = 0
const ok = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({id, service: 'iam', op, params})
const fails = (op: string, params: Record<string, unknown>, expect: string): Step => ({...ok(op, params), expect})

/** Put/Get/List/Delete inline and Attach/ListAttached/Detach managed policies on one holder (user, group or role). */
function holderSteps(title: 'User' | 'Group' | 'Role', name: string): Step[] {
  const holder = {[`${title}Name`]: name}
  const missing = {[`${title}Name`]: 'conf-nobody'}
  return [
    ok(`Put${title}Policy`, {...holder, PolicyName: 'inline', PolicyDocument: READ}),
    fails(`Put${title}Policy`, {...holder, PolicyName: 'bad', PolicyDocument: '{"Statement": 7'}, 'MalformedPolicyDocumentException'),
    fails(`Put${title}Policy`, {...missing, PolicyName: 'inline', PolicyDocument: READ}, 'NoSuchEntityException'),
    ok(`Get${title}Policy`, {...holder, PolicyName: 'inline'}),
    fails(`Get${title}Policy`, {...holder, PolicyName: 'absent'}, 'NoSuchEntityException'),
    ok(`List${title}Policies`, holder),
    fails(`List${title}Policies`, missing, 'NoSuchEntityException'),
    ok(`Attach${title}Policy`, {...holder, PolicyArn: POLICY_ARN}),
    fails(`Attach${title}Policy`, {...holder, PolicyArn: MISSING_POLICY_ARN}, 'NoSuchEntityException'),
    ok(`ListAttached${title}Policies`, holder),
    ok(`ListAttached${title}Policies`, {...holder, PathPrefix: '/conf/'}),
    fails(`ListAttached${title}Policies`, missing, 'NoSuchEntityException'),
  ]
}

function holderCleanup(title: 'User' | 'Group' | 'Role', name: string): Step[] {
  const holder = {[`${title}Name`]: name}
  return [
    ok(`Delete${title}Policy`, {...holder, PolicyName: 'inline'}),
    fails(`Delete${title}Policy`, {...holder, PolicyName: 'inline'}, 'NoSuchEntityException'),
    ok(`Detach${title}Policy`, {...holder, PolicyArn: POLICY_ARN}),
    fails(`Detach${title}Policy`, {...holder, PolicyArn: POLICY_ARN}, 'NoSuchEntityException'),
  ]
}

/** Tag, list, untag on one taggable kind, with the errors IAM gives. */
function tagSteps(
  title: 'User' | 'Role' | 'Policy' | 'InstanceProfile',
  target: Record<string, string>,
  missing: Record<string, string>,
): Step[] {
  const many = Array.from({length: 51}, (_, index) => ({Key: `k${index}`, Value: 'v'}))
  return [
    ok(`Tag${title}`, {
      ...target,
      Tags: [
        {Key: 'a', Value: '1'},
        {Key: 'b', Value: '2'},
      ],
    }),
    fails(
      `Tag${title}`,
      {
        ...target,
        Tags: [
          {Key: 'x', Value: '1'},
          {Key: 'X', Value: '2'},
        ],
      },
      'InvalidInputException',
    ),
    fails(`Tag${title}`, {...target, Tags: many}, 'LimitExceededException'),
    fails(`Tag${title}`, {...missing, Tags: [{Key: 'a', Value: '1'}]}, 'NoSuchEntityException'),
    ok(`List${title}Tags`, target),
    fails(`List${title}Tags`, missing, 'NoSuchEntityException'),
    ok(`Untag${title}`, {...target, TagKeys: ['b']}),
    fails(`Untag${title}`, {...missing, TagKeys: ['b']}, 'NoSuchEntityException'),
  ]
}

const alice = {UserName: 'conf-alice'}
const nobody = {UserName: 'conf-nobody'}
const aliceKeys = {accessKeyId: ref('aliceKey', 'AccessKey.AccessKeyId'), secretAccessKey: ref('aliceKey', 'AccessKey.SecretAccessKey')}
const profile = {InstanceProfileName: 'conf-profile'}

const steps: Step[] = [
  // Users
  ok('CreateUser', {UserName: 'conf-alice', Path: '/conf/'}),
  fails('CreateUser', alice, 'EntityAlreadyExistsException'),
  ok('GetUser', alice),
  fails('GetUser', nobody, 'NoSuchEntityException'),
  ok('ListUsers'),
  ok('ListUsers', {PathPrefix: '/conf/', MaxItems: 1}),
  ok('CreateUser', {UserName: 'conf-carol'}),
  ok('UpdateUser', {UserName: 'conf-carol', NewUserName: 'conf-carol2'}),
  fails('UpdateUser', {UserName: 'conf-carol'}, 'NoSuchEntityException'),
  fails('UpdateUser', {UserName: 'conf-carol2', NewUserName: 'conf-alice'}, 'EntityAlreadyExistsException'),
  // Managed policies first: the holders attach one.
  ok('CreatePolicy', {PolicyName: 'conf-read', Path: '/conf/', PolicyDocument: READ, Description: 'conformance'}),
  fails('CreatePolicy', {PolicyName: 'conf-read', Path: '/conf/', PolicyDocument: READ}, 'EntityAlreadyExistsException'),
  fails('CreatePolicy', {PolicyName: 'conf-bad', PolicyDocument: 'not json'}, 'MalformedPolicyDocumentException'),
  ok('GetPolicy', {PolicyArn: POLICY_ARN}),
  fails('GetPolicy', {PolicyArn: MISSING_POLICY_ARN}, 'NoSuchEntityException'),
  ok('ListPolicies', {Scope: 'Local'}),
  ok('ListPolicies', {Scope: 'AWS', MaxItems: 2}),
  ok('CreatePolicyVersion', {PolicyArn: POLICY_ARN, PolicyDocument: READ_AND_LIST, SetAsDefault: true}),
  fails('CreatePolicyVersion', {PolicyArn: MISSING_POLICY_ARN, PolicyDocument: READ}, 'NoSuchEntityException'),
  fails('CreatePolicyVersion', {PolicyArn: POLICY_ARN, PolicyDocument: '{'}, 'MalformedPolicyDocumentException'),
  ok('GetPolicyVersion', {PolicyArn: POLICY_ARN, VersionId: 'v2'}),
  fails('GetPolicyVersion', {PolicyArn: POLICY_ARN, VersionId: 'v9'}, 'NoSuchEntityException'),
  ok('ListPolicyVersions', {PolicyArn: POLICY_ARN}),
  fails('ListPolicyVersions', {PolicyArn: MISSING_POLICY_ARN}, 'NoSuchEntityException'),
  fails('DeletePolicyVersion', {PolicyArn: POLICY_ARN, VersionId: 'v2'}, 'DeleteConflictException'),
  ok('DeletePolicyVersion', {PolicyArn: POLICY_ARN, VersionId: 'v1'}),
  fails('DeletePolicyVersion', {PolicyArn: POLICY_ARN, VersionId: 'v1'}, 'NoSuchEntityException'),
  // Groups
  ok('CreateGroup', {GroupName: 'conf-team', Path: '/conf/'}),
  fails('CreateGroup', {GroupName: 'conf-team'}, 'EntityAlreadyExistsException'),
  ok('CreateGroup', {GroupName: 'conf-renamed'}),
  ok('UpdateGroup', {GroupName: 'conf-renamed', NewGroupName: 'conf-renamed2', NewPath: '/conf/'}),
  fails('UpdateGroup', {GroupName: 'conf-renamed'}, 'NoSuchEntityException'),
  fails('UpdateGroup', {GroupName: 'conf-renamed2', NewGroupName: 'conf-team'}, 'EntityAlreadyExistsException'),
  ok('DeleteGroup', {GroupName: 'conf-renamed2'}),
  ok('AddUserToGroup', {GroupName: 'conf-team', ...alice}),
  fails('AddUserToGroup', {GroupName: 'conf-team', ...nobody}, 'NoSuchEntityException'),
  ok('GetGroup', {GroupName: 'conf-team'}),
  fails('GetGroup', {GroupName: 'conf-nobody'}, 'NoSuchEntityException'),
  ok('ListGroups'),
  ok('ListGroupsForUser', alice),
  fails('ListGroupsForUser', nobody, 'NoSuchEntityException'),
  // Roles and instance profiles
  ok('CreateRole', {
    RoleName: 'conf-role',
    Path: '/conf/',
    AssumeRolePolicyDocument: TRUST,
    Description: 'conformance',
    MaxSessionDuration: 7200,
  }),
  fails('CreateRole', {RoleName: 'conf-role', AssumeRolePolicyDocument: TRUST}, 'EntityAlreadyExistsException'),
  fails('CreateRole', {RoleName: 'conf-bad-role', AssumeRolePolicyDocument: '[1'}, 'MalformedPolicyDocumentException'),
  ok('GetRole', {RoleName: 'conf-role'}),
  fails('GetRole', {RoleName: 'conf-nobody'}, 'NoSuchEntityException'),
  ok('ListRoles'),
  ok('CreateInstanceProfile', {...profile, Path: '/conf/'}),
  fails('CreateInstanceProfile', profile, 'EntityAlreadyExistsException'),
  ok('AddRoleToInstanceProfile', {...profile, RoleName: 'conf-role'}),
  fails('AddRoleToInstanceProfile', {...profile, RoleName: 'conf-role'}, 'LimitExceededException'),
  fails('AddRoleToInstanceProfile', {InstanceProfileName: 'conf-nobody', RoleName: 'conf-role'}, 'NoSuchEntityException'),
  ok('GetInstanceProfile', profile),
  fails('GetInstanceProfile', {InstanceProfileName: 'conf-nobody'}, 'NoSuchEntityException'),
  ok('ListInstanceProfiles'),
  fails('DeleteInstanceProfile', profile, 'DeleteConflictException'),
  fails('DeleteRole', {RoleName: 'conf-role'}, 'DeleteConflictException'),
  ok('RemoveRoleFromInstanceProfile', {...profile, RoleName: 'conf-role'}),
  fails('RemoveRoleFromInstanceProfile', {...profile, RoleName: 'conf-role'}, 'NoSuchEntityException'),
  ok('DeleteInstanceProfile', profile),
  fails('DeleteInstanceProfile', profile, 'NoSuchEntityException'),
  // Inline and attached policies on each kind of holder
  ...holderSteps('User', 'conf-alice'),
  ...holderSteps('Group', 'conf-team'),
  ...holderSteps('Role', 'conf-role'),
  fails('DeletePolicy', {PolicyArn: POLICY_ARN}, 'DeleteConflictException'),
  fails('DeleteUser', alice, 'DeleteConflictException'),
  fails('DeleteGroup', {GroupName: 'conf-team'}, 'DeleteConflictException'),
  // Access keys and passwords
  ok('CreateAccessKey', alice, 'aliceKey'),
  ok('CreateAccessKey', alice, 'aliceSecondKey'),
  fails('CreateAccessKey', alice, 'LimitExceededException'),
  fails('CreateAccessKey', nobody, 'NoSuchEntityException'),
  ok('ListAccessKeys', alice),
  fails('ListAccessKeys', nobody, 'NoSuchEntityException'),
  ok('UpdateAccessKey', {...alice, AccessKeyId: ref('aliceSecondKey', 'AccessKey.AccessKeyId'), Status: 'Inactive'}),
  fails('UpdateAccessKey', {...alice, AccessKeyId: 'AKIAEXAMPLEEXAMPLE00', Status: 'Active'}, 'NoSuchEntityException'),
  ok('DeleteAccessKey', {...alice, AccessKeyId: ref('aliceSecondKey', 'AccessKey.AccessKeyId')}),
  fails('DeleteAccessKey', {...alice, AccessKeyId: ref('aliceSecondKey', 'AccessKey.AccessKeyId')}, 'NoSuchEntityException'),
  fails('GetLoginProfile', alice, 'NoSuchEntityException'),
  ok('CreateLoginProfile', {...alice, Password: 'Conformance-1-password', PasswordResetRequired: false}),
  fails('CreateLoginProfile', {...alice, Password: 'Conformance-1-password'}, 'EntityAlreadyExistsException'),
  fails('CreateLoginProfile', {...nobody, Password: 'Conformance-1-password'}, 'NoSuchEntityException'),
  ok('GetLoginProfile', alice),
  ok('UpdateLoginProfile', {...alice, PasswordResetRequired: true}),
  fails('UpdateLoginProfile', nobody, 'NoSuchEntityException'),
  ok('PutUserPolicy', {...alice, PolicyName: 'own-password', PolicyDocument: CHANGE_OWN_PASSWORD}),
  {...ok('ChangePassword', {OldPassword: 'Conformance-1-password', NewPassword: 'Conformance-2-password'}), creds: aliceKeys},
  fails('ChangePassword', {OldPassword: 'x', NewPassword: 'Conformance-3-password'}, 'InvalidUserTypeException'),
  ok('DeleteLoginProfile', alice),
  fails('DeleteLoginProfile', alice, 'NoSuchEntityException'),
  fails('GetAccountPasswordPolicy', {}, 'NoSuchEntityException'),
  // Tags, permissions boundaries and role updates
  ok('CreateUser', {UserName: 'conf-bounded', PermissionsBoundary: POLICY_ARN, Tags: [{Key: 'team', Value: 'lab'}]}),
  fails('CreateUser', {UserName: 'conf-unbounded', PermissionsBoundary: MISSING_POLICY_ARN}, 'NoSuchEntityException'),
  ok('GetUser', {UserName: 'conf-bounded'}),
  ...tagSteps('User', alice, nobody),
  ...tagSteps('Role', {RoleName: 'conf-role'}, {RoleName: 'conf-nobody'}),
  ...tagSteps('Policy', {PolicyArn: POLICY_ARN}, {PolicyArn: MISSING_POLICY_ARN}),
  ok('CreateInstanceProfile', {InstanceProfileName: 'conf-tagged', Tags: [{Key: 'k', Value: 'v'}]}),
  ok('GetInstanceProfile', {InstanceProfileName: 'conf-tagged'}),
  ...tagSteps('InstanceProfile', {InstanceProfileName: 'conf-tagged'}, {InstanceProfileName: 'conf-nobody'}),
  ok('DeleteInstanceProfile', {InstanceProfileName: 'conf-tagged'}),
  ok('PutUserPermissionsBoundary', {...alice, PermissionsBoundary: POLICY_ARN}),
  fails('PutUserPermissionsBoundary', {...alice, PermissionsBoundary: MISSING_POLICY_ARN}, 'NoSuchEntityException'),
  fails('PutUserPermissionsBoundary', {...alice, PermissionsBoundary: 'not-an-arn-but-long-enough'}, 'InvalidInputException'),
  ok('DeleteUserPermissionsBoundary', alice),
  fails('DeleteUserPermissionsBoundary', nobody, 'NoSuchEntityException'),
  ok('CreateRole', {
    RoleName: 'conf-bounded-role',
    AssumeRolePolicyDocument: TRUST,
    PermissionsBoundary: POLICY_ARN,
    Tags: [{Key: 'team', Value: 'lab'}],
  }),
  ok('GetRole', {RoleName: 'conf-bounded-role'}),
  ok('PutRolePermissionsBoundary', {RoleName: 'conf-role', PermissionsBoundary: POLICY_ARN}),
  fails('PutRolePermissionsBoundary', {RoleName: 'conf-role', PermissionsBoundary: 'not-an-arn-but-long-enough'}, 'InvalidInputException'),
  fails('PutRolePermissionsBoundary', {RoleName: 'conf-nobody', PermissionsBoundary: POLICY_ARN}, 'NoSuchEntityException'),
  ok('GetRole', {RoleName: 'conf-role'}),
  ok('DeleteRolePermissionsBoundary', {RoleName: 'conf-role'}),
  fails('DeleteRolePermissionsBoundary', {RoleName: 'conf-nobody'}, 'NoSuchEntityException'),
  ok('UpdateRole', {RoleName: 'conf-role', Description: 'updated', MaxSessionDuration: 3600}),
  fails('UpdateRole', {RoleName: 'conf-nobody', Description: 'x'}, 'NoSuchEntityException'),
  ok('UpdateRoleDescription', {RoleName: 'conf-role', Description: 'described'}),
  fails('UpdateRoleDescription', {RoleName: 'conf-nobody', Description: 'x'}, 'NoSuchEntityException'),
  ok('UpdateAssumeRolePolicy', {RoleName: 'conf-role', PolicyDocument: TRUST}),
  fails('UpdateAssumeRolePolicy', {RoleName: 'conf-role', PolicyDocument: '{'}, 'MalformedPolicyDocumentException'),
  fails('UpdateAssumeRolePolicy', {RoleName: 'conf-nobody', PolicyDocument: TRUST}, 'NoSuchEntityException'),
  // Signing certificates
  ok('UploadSigningCertificate', {...alice, CertificateBody: CERTIFICATE_1}, 'cert1'),
  fails('UploadSigningCertificate', {...alice, CertificateBody: CERTIFICATE_1}, 'DuplicateCertificateException'),
  fails('UploadSigningCertificate', {...alice, CertificateBody: 'not a certificate'}, 'MalformedCertificateException'),
  ok('UploadSigningCertificate', {...alice, CertificateBody: CERTIFICATE_2}, 'cert2'),
  fails('UploadSigningCertificate', {...alice, CertificateBody: CERTIFICATE_3}, 'LimitExceededException'),
  fails('UploadSigningCertificate', {...nobody, CertificateBody: CERTIFICATE_3}, 'NoSuchEntityException'),
  ok('ListSigningCertificates', alice),
  fails('ListSigningCertificates', nobody, 'NoSuchEntityException'),
  ok('UpdateSigningCertificate', {...alice, CertificateId: ref('cert1', 'Certificate.CertificateId'), Status: 'Inactive'}),
  fails('UpdateSigningCertificate', {...alice, CertificateId: 'A'.repeat(24), Status: 'Active'}, 'NoSuchEntityException'),
  fails('DeleteUser', alice, 'DeleteConflictException'),
  ok('DeleteSigningCertificate', {...alice, CertificateId: ref('cert1', 'Certificate.CertificateId')}),
  ok('DeleteSigningCertificate', {...alice, CertificateId: ref('cert2', 'Certificate.CertificateId')}),
  fails('DeleteSigningCertificate', {...alice, CertificateId: ref('cert2', 'Certificate.CertificateId')}, 'NoSuchEntityException'),
  fails('DeletePolicy', {PolicyArn: POLICY_ARN}, 'DeleteConflictException'),
  ok('DeleteUser', {UserName: 'conf-bounded'}),
  ok('DeleteRole', {RoleName: 'conf-bounded-role'}),
  // Clean up in dependency order, then the deletes' own errors.
  ...holderCleanup('User', 'conf-alice'),
  ...holderCleanup('Group', 'conf-team'),
  ...holderCleanup('Role', 'conf-role'),
  ok('DeleteUserPolicy', {...alice, PolicyName: 'own-password'}),
  ok('DeleteAccessKey', {...alice, AccessKeyId: ref('aliceKey', 'AccessKey.AccessKeyId')}),
  ok('RemoveUserFromGroup', {GroupName: 'conf-team', ...alice}),
  fails('RemoveUserFromGroup', {GroupName: 'conf-team', ...alice}, 'NoSuchEntityException'),
  ok('DeleteGroup', {GroupName: 'conf-team'}),
  fails('DeleteGroup', {GroupName: 'conf-team'}, 'NoSuchEntityException'),
  ok('DeleteUser', alice),
  ok('DeleteUser', {UserName: 'conf-carol2'}),
  fails('DeleteUser', alice, 'NoSuchEntityException'),
  ok('DeleteRole', {RoleName: 'conf-role'}),
  fails('DeleteRole', {RoleName: 'conf-role'}, 'NoSuchEntityException'),
  ok('DeletePolicy', {PolicyArn: POLICY_ARN}),
  fails('DeletePolicy', {PolicyArn: POLICY_ARN}, 'NoSuchEntityException'),
]

conformanceSuite(test, {
  service: 'iam',
  served: IAM_ACTIONS,
  steps,
  alive: ok('ListUsers'),
  refusals: ['InvalidAction'],
  // Members AWS returns every time although the model leaves them optional.
  always: {
    Policy: ['PolicyName', 'PolicyId', 'Arn', 'Path', 'DefaultVersionId', 'AttachmentCount', 'IsAttachable', 'CreateDate', 'UpdateDate'],
    PolicyVersion: ['VersionId', 'IsDefaultVersion', 'CreateDate'],
    AttachedPolicy: ['PolicyName', 'PolicyArn'],
    AccessKeyMetadata: ['UserName', 'AccessKeyId', 'Status', 'CreateDate'],
    Role: ['AssumeRolePolicyDocument'],
  },
  // An account without a password policy answers NoSuchEntity, and UpdateAccountPasswordPolicy is not served.
  errorOnly: {GetAccountPasswordPolicy: 'no password policy can be set (UpdateAccountPasswordPolicy is not served)'},
})
