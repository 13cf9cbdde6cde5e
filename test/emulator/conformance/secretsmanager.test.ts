/**
 * Secrets Manager against botocore's model: every served operation driven
 * through boto3, its answers checked against the output shape, a modeled error
 * provoked for each, and the unserved ones (rotation, replication) refused with
 * UnknownOperationException.
 */
import test from 'ava'
import {SECRETSMANAGER_ACTIONS} from '../../../src/emulator/services/secretsmanager/handler.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

let counter = 0
const ok = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service: 'secretsmanager',
  op,
  params,
})
const fails = (op: string, params: Record<string, unknown>, expect: string): Step => ({...ok(op, params), expect})

const db = {SecretId: 'conf/db'}
const missing = {SecretId: 'conf/missing'}
const TOKEN = 'conformance-token-0000000000000001'
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'secretsmanager:GetSecretValue', Resource: '*'},
  ],
})
const PUBLIC = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*'}],
})

const steps: Step[] = [
  ok(
    'CreateSecret',
    {Name: 'conf/db', SecretString: '{"user":"a","password":"b"}', Description: 'conformance', Tags: [{Key: 'k', Value: 'v'}]},
    'db',
  ),
  ok('CreateSecret', {Name: 'conf/bin', SecretBinary: 'bytes here', KmsKeyId: 'alias/aws/secretsmanager'}),
  ok('CreateSecret', {Name: 'conf/empty'}),
  fails('CreateSecret', {Name: 'conf/db', SecretString: 'again'}, 'ResourceExistsException'),
  fails('CreateSecret', {Name: 'conf/both', SecretString: 'a', SecretBinary: 'b'}, 'InvalidParameterException'),
  ok('GetSecretValue', db),
  ok('GetSecretValue', {SecretId: ref('db', 'ARN')}),
  ok('GetSecretValue', {SecretId: 'conf/bin'}),
  fails('GetSecretValue', missing, 'ResourceNotFoundException'),
  fails('GetSecretValue', {SecretId: 'conf/empty'}, 'ResourceNotFoundException'),
  ok('PutSecretValue', {...db, SecretString: 'rotated', ClientRequestToken: TOKEN}),
  ok('PutSecretValue', {...db, SecretString: 'rotated', ClientRequestToken: TOKEN}),
  fails('PutSecretValue', {...db, SecretString: 'different', ClientRequestToken: TOKEN}, 'ResourceExistsException'),
  fails('PutSecretValue', {...missing, SecretString: 'x'}, 'ResourceNotFoundException'),
  ok('GetSecretValue', {...db, VersionStage: 'AWSPREVIOUS'}),
  ok('GetSecretValue', {...db, VersionId: TOKEN}),
  ok('PutSecretValue', {...db, SecretString: 'pending', VersionStages: ['PENDING']}, 'pending'),
  ok('UpdateSecretVersionStage', {
    ...db,
    VersionStage: 'AWSCURRENT',
    MoveToVersionId: ref('pending', 'VersionId'),
    RemoveFromVersionId: TOKEN,
  }),
  fails('UpdateSecretVersionStage', {...db, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN}, 'InvalidParameterException'),
  ok('UpdateSecret', {...db, Description: 'updated'}),
  ok('UpdateSecret', {...db, SecretString: 'updated value'}),
  fails('UpdateSecret', {...missing, Description: 'x'}, 'ResourceNotFoundException'),
  ok('DescribeSecret', db),
  fails('DescribeSecret', missing, 'ResourceNotFoundException'),
  ok('ListSecrets'),
  ok('ListSecrets', {MaxResults: 1}),
  ok('ListSecrets', {Filters: [{Key: 'name', Values: ['conf/']}], IncludePlannedDeletion: true, SortOrder: 'desc'}),
  fails('ListSecrets', {NextToken: 'not-a-token'}, 'InvalidNextTokenException'),
  ok('ListSecretVersionIds', {...db, IncludeDeprecated: true}),
  fails('ListSecretVersionIds', missing, 'ResourceNotFoundException'),
  ok('BatchGetSecretValue', {SecretIdList: ['conf/db', 'conf/missing']}),
  ok('BatchGetSecretValue', {Filters: [{Key: 'name', Values: ['conf/']}]}),
  fails('BatchGetSecretValue', {SecretIdList: ['conf/db'], Filters: [{Key: 'name', Values: ['conf/']}]}, 'InvalidParameterException'),
  ok('GetRandomPassword'),
  ok('GetRandomPassword', {PasswordLength: 12, ExcludePunctuation: true, IncludeSpace: true, RequireEachIncludedType: true}),
  fails(
    'GetRandomPassword',
    {ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true},
    'InvalidParameterException',
  ),
  ok('TagResource', {...db, Tags: [{Key: 'team', Value: 'lab'}]}),
  fails('TagResource', {...missing, Tags: [{Key: 'team', Value: 'lab'}]}, 'ResourceNotFoundException'),
  ok('UntagResource', {...db, TagKeys: ['team']}),
  fails('UntagResource', {...missing, TagKeys: ['team']}, 'ResourceNotFoundException'),
  ok('PutResourcePolicy', {...db, ResourcePolicy: POLICY}),
  fails('PutResourcePolicy', {...db, ResourcePolicy: '{"Statement": ['}, 'MalformedPolicyDocumentException'),
  fails('PutResourcePolicy', {...db, ResourcePolicy: PUBLIC, BlockPublicPolicy: true}, 'PublicPolicyException'),
  ok('GetResourcePolicy', db),
  fails('GetResourcePolicy', missing, 'ResourceNotFoundException'),
  ok('ValidateResourcePolicy', {...db, ResourcePolicy: POLICY}),
  fails('ValidateResourcePolicy', {ResourcePolicy: '[1'}, 'MalformedPolicyDocumentException'),
  ok('DeleteResourcePolicy', db),
  fails('DeleteResourcePolicy', missing, 'ResourceNotFoundException'),
  fails('DeleteSecret', {...db, RecoveryWindowInDays: 3}, 'InvalidParameterException'),
  ok('DeleteSecret', {...db, RecoveryWindowInDays: 7}),
  fails('GetSecretValue', db, 'InvalidRequestException'),
  fails('DeleteSecret', db, 'InvalidRequestException'),
  ok('RestoreSecret', db),
  fails('RestoreSecret', missing, 'ResourceNotFoundException'),
  ok('DeleteSecret', {SecretId: 'conf/bin', ForceDeleteWithoutRecovery: true}),
]

conformanceSuite(test, {
  service: 'secretsmanager',
  served: SECRETSMANAGER_ACTIONS,
  steps,
  alive: ok('ListSecrets'),
  refusals: ['UnknownOperationException'],
  // Members AWS returns every time although the model leaves them optional.
  always: {
    GetSecretValueResponse: ['ARN', 'Name', 'VersionId', 'VersionStages', 'CreatedDate'],
    CreateSecretResponse: ['ARN', 'Name'],
    DescribeSecretResponse: ['ARN', 'Name', 'CreatedDate', 'LastChangedDate'],
  },
})
