/**
 * Lambda against botocore's model through boto3: every served operation's
 * answers checked against its output shape and one modeled error each; every
 * other operation of the model refused by name (NotImplemented).
 */
import test from 'ava'
import {LAMBDA_OPERATIONS} from '../../../src/emulator/services/lambda/handler.js'
import {zipOf} from '../lambda/helpers.js'
import {conformanceSuite, type Step} from './suite.js'

const ROLE = 'arn:aws:iam::000000000000:role/conf-lambda'
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:conf-fn'
const zip = await zipOf({'index.mjs': 'export const handler = async (event) => ({echo: event})\n'})
const blob = {$blob: zip.toString('base64')}

// drive.ts names the services it has been used with; boto3 only needs the name.
const LAMBDA = 'lambda' as unknown as Step['service']
let counter = 0
const call = (service: Step['service'], op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service,
  op,
  params,
})
const fn = (op: string, params: Record<string, unknown> = {}) => call(LAMBDA, op, params)
const fails = (step: Step, expect: string): Step => ({...step, expect})
const create = {FunctionName: 'conf-fn', Runtime: 'nodejs22.x', Role: ROLE, Handler: 'index.handler', Code: {ZipFile: blob}}

const steps: Step[] = [
  call('iam', 'CreateRole', {RoleName: 'conf-lambda', AssumeRolePolicyDocument: TRUST}),
  fn('CreateFunction', {...create, Tags: {team: 'conf'}, Environment: {Variables: {A: 'b'}}}),
  fails(fn('CreateFunction', create), 'ResourceConflictException'),
  fails(fn('CreateFunction', {...create, FunctionName: 'conf-other', Runtime: 'nodejs20.x'}), 'InvalidParameterValueException'),
  fn('GetFunction', {FunctionName: 'conf-fn'}),
  fails(fn('GetFunction', {FunctionName: 'conf-missing'}), 'ResourceNotFoundException'),
  fn('GetFunctionConfiguration', {FunctionName: ARN}),
  fails(fn('GetFunctionConfiguration', {FunctionName: 'conf-missing'}), 'ResourceNotFoundException'),
  fn('ListFunctions', {MaxItems: 5}),
  fn('Invoke', {FunctionName: 'conf-fn', Payload: '{"a":1}', LogType: 'Tail'}),
  fn('Invoke', {FunctionName: 'conf-fn', Payload: '{}', InvocationType: 'Event'}),
  fn('Invoke', {FunctionName: 'conf-fn', InvocationType: 'DryRun'}),
  fails(fn('Invoke', {FunctionName: 'conf-missing'}), 'ResourceNotFoundException'),
  fails(fn('Invoke', {FunctionName: 'conf-fn', Payload: '{oops'}), 'InvalidRequestContentException'),
  fn('InvokeAsync', {FunctionName: 'conf-fn', InvokeArgs: '{}'}),
  fails(fn('InvokeAsync', {FunctionName: 'conf-missing', InvokeArgs: '{}'}), 'ResourceNotFoundException'),
  fails(fn('GetPolicy', {FunctionName: 'conf-fn'}), 'ResourceNotFoundException'),
  fn('AddPermission', {
    FunctionName: 'conf-fn',
    StatementId: 's3',
    Action: 'lambda:InvokeFunction',
    Principal: 's3.amazonaws.com',
    SourceArn: 'arn:aws:s3:::conf-bucket',
    SourceAccount: '000000000000',
  }),
  fails(
    fn('AddPermission', {FunctionName: 'conf-fn', StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com'}),
    'ResourceConflictException',
  ),
  fn('GetPolicy', {FunctionName: 'conf-fn'}),
  fn('RemovePermission', {FunctionName: 'conf-fn', StatementId: 's3'}),
  fails(fn('RemovePermission', {FunctionName: 'conf-fn', StatementId: 's3'}), 'ResourceNotFoundException'),
  fn('UpdateFunctionConfiguration', {FunctionName: 'conf-fn', Timeout: 9, Environment: {Variables: {A: 'c'}}}),
  fails(fn('UpdateFunctionConfiguration', {FunctionName: 'conf-fn', RevisionId: 'stale'}), 'PreconditionFailedException'),
  fn('UpdateFunctionCode', {FunctionName: 'conf-fn', ZipFile: blob}),
  fails(fn('UpdateFunctionCode', {FunctionName: 'conf-missing', ZipFile: blob}), 'ResourceNotFoundException'),
  fn('TagResource', {Resource: ARN, Tags: {stage: 'dev'}}),
  fails(fn('TagResource', {Resource: `${ARN}-missing`, Tags: {stage: 'dev'}}), 'ResourceNotFoundException'),
  fn('ListTags', {Resource: ARN}),
  fails(fn('ListTags', {Resource: `${ARN}-missing`}), 'ResourceNotFoundException'),
  fn('UntagResource', {Resource: ARN, TagKeys: ['stage']}),
  fails(fn('UntagResource', {Resource: `${ARN}-missing`, TagKeys: ['stage']}), 'ResourceNotFoundException'),
  fn('GetAccountSettings'),
  fn('DeleteFunction', {FunctionName: 'conf-fn'}),
  fails(fn('DeleteFunction', {FunctionName: 'conf-fn'}), 'ResourceNotFoundException'),
  fn('CreateFunction', {...create, FunctionName: 'conf-alive'}),
]

conformanceSuite(test, {
  service: LAMBDA,
  served: LAMBDA_OPERATIONS,
  steps,
  alive: fn('GetFunction', {FunctionName: 'conf-alive'}),
  refusals: ['NotImplemented'],
  probeInputs: {FunctionName: 'conf-alive'},
  uninducible: {
    ListFunctions:
      'its modeled errors are InvalidParameterValueException for a bad marker, TooManyRequestsException and ServiceException; markers here are opaque and any is read as a position',
    GetAccountSettings: 'its modeled errors are TooManyRequestsException and ServiceException, which the emulator never raises',
  },
})
