/**
 * CloudFormation against botocore's model: every served operation through
 * boto3 (stacks, events, resources, templates, change sets, exports and
 * imports, termination protection), answers checked against the output
 * shapes and each modeled error provoked; every other operation refused with
 * InvalidAction.
 */
import test from 'ava'
import {CLOUDFORMATION_ACTIONS} from '../../../src/emulator/services/cloudformation/handler.js'
import {ref} from './drive.js'
import {conformanceSuite, type Step} from './suite.js'

let counter = 0
const call = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({
  id,
  service: 'cloudformation',
  op,
  params,
})
const fails = (step: Step, expect: string): Step => ({...step, expect})

// YAML, so boto3 hands GetTemplate's TemplateBody back as the string it is (it decodes JSON bodies into dicts).
const BUCKET = [
  'Parameters:',
  '  Suffix: {Type: String, Default: one}',
  'Resources:',
  '  Bucket:',
  '    Type: AWS::S3::Bucket',
  '    Properties:',
  "      BucketName: !Sub 'conf-cfn-${Suffix}'",
  'Outputs:',
  '  Name:',
  '    Value: !Ref Bucket',
  '    Export: {Name: conf-cfn-bucket}',
  '',
].join('\n')
const IMPORTER = JSON.stringify({
  Resources: {
    Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Join': ['-', [{'Fn::ImportValue': 'conf-cfn-bucket'}, 'copy']]}}},
  },
})
const USER = JSON.stringify({Resources: {User: {Type: 'AWS::IAM::User', Properties: {UserName: 'conf-cfn-user'}}}})

const steps: Step[] = [
  call('ValidateTemplate', {TemplateBody: BUCKET}),
  call('GetTemplateSummary', {TemplateBody: USER}),
  fails(call('CreateStack', {StackName: 'conf-user', TemplateBody: USER}), 'InsufficientCapabilitiesException'),
  call('CreateStack', {StackName: 'conf', TemplateBody: BUCKET}, 'created'),
  fails(call('CreateStack', {StackName: 'conf', TemplateBody: BUCKET}), 'AlreadyExistsException'),
  call('DescribeStacks', {StackName: 'conf'}),
  call('DescribeStacks'),
  call('ListStacks', {StackStatusFilter: ['CREATE_COMPLETE']}),
  call('DescribeStackEvents', {StackName: 'conf'}),
  call('DescribeStackResource', {StackName: 'conf', LogicalResourceId: 'Bucket'}),
  call('DescribeStackResources', {StackName: 'conf'}),
  call('ListStackResources', {StackName: 'conf'}),
  call('GetTemplate', {StackName: 'conf'}),
  call('GetTemplateSummary', {StackName: 'conf'}),
  call('ListExports'),
  call('CreateStack', {StackName: 'conf-importer', TemplateBody: IMPORTER}),
  call('ListImports', {ExportName: 'conf-cfn-bucket'}),
  call('UpdateTerminationProtection', {StackName: 'conf', EnableTerminationProtection: true}),
  call('UpdateTerminationProtection', {StackName: 'conf', EnableTerminationProtection: false}),
  fails(
    call('CreateChangeSet', {StackName: 'conf-user', ChangeSetName: 'iam', ChangeSetType: 'CREATE', TemplateBody: USER}),
    'InsufficientCapabilitiesException',
  ),
  call(
    'CreateChangeSet',
    {StackName: 'conf', ChangeSetName: 'two', TemplateBody: BUCKET, Parameters: [{ParameterKey: 'Suffix', ParameterValue: 'two'}]},
    'changeSet',
  ),
  fails(call('CreateChangeSet', {StackName: 'conf', ChangeSetName: 'two', TemplateBody: BUCKET}), 'AlreadyExistsException'),
  call('DescribeChangeSet', {ChangeSetName: ref('changeSet', 'Id')}),
  fails(call('DescribeChangeSet', {StackName: 'conf', ChangeSetName: 'nope'}), 'ChangeSetNotFoundException'),
  call('ListChangeSets', {StackName: 'conf'}),
  call('GetTemplate', {StackName: 'conf', ChangeSetName: 'two'}),
  fails(call('GetTemplate', {StackName: 'conf', ChangeSetName: 'nope'}), 'ChangeSetNotFoundException'),
  call('CreateChangeSet', {StackName: 'conf', ChangeSetName: 'same', TemplateBody: BUCKET}, 'emptyChangeSet'),
  fails(call('ExecuteChangeSet', {StackName: 'conf', ChangeSetName: 'same'}), 'InvalidChangeSetStatusException'),
  fails(call('ExecuteChangeSet', {StackName: 'conf', ChangeSetName: 'nope'}), 'ChangeSetNotFoundException'),
  call('DeleteChangeSet', {StackName: 'conf', ChangeSetName: 'same'}),
  call('CreateChangeSet', {
    StackName: 'conf-fresh',
    ChangeSetName: 'first',
    ChangeSetType: 'CREATE',
    TemplateBody: USER,
    Capabilities: ['CAPABILITY_NAMED_IAM'],
  }),
  call('ExecuteChangeSet', {StackName: 'conf-fresh', ChangeSetName: 'first'}),
  fails(call('DeleteChangeSet', {StackName: 'conf-fresh', ChangeSetName: 'first'}), 'InvalidChangeSetStatusException'),
  fails(call('UpdateStack', {StackName: 'conf-fresh', TemplateBody: USER}), 'InsufficientCapabilitiesException'),
  call('UpdateStack', {StackName: 'conf-importer', TemplateBody: IMPORTER, Tags: [{Key: 'team', Value: 'conf'}]}),
  call('DeleteStack', {StackName: 'conf-importer'}),
  call('DeleteStack', {StackName: 'conf-fresh'}),
]

conformanceSuite(test, {
  service: 'cloudformation',
  served: CLOUDFORMATION_ACTIONS,
  steps,
  alive: call('ListStacks'),
  refusals: ['InvalidAction'],
  always: {DescribeStacksOutput: ['Stacks'], CreateStackOutput: ['StackId']},
  uninducible: {
    DeleteStack:
      'its only modeled error, TokenAlreadyExistsException, needs a ClientRequestToken reused by another operation (tokens are not kept)',
    GetTemplateSummary: 'its only modeled error, StackSetNotFoundException, needs stack sets (not served)',
  },
})
