/**
 * Every provider over its emulated service, from a YAML template in
 * short-form tags that uses every intrinsic: Lambda (inline ZipFile with
 * cfn-response, and a Permission), Logs, EventBridge, Secrets Manager (with
 * GenerateSecretString and a {{resolve:secretsmanager}} reference), SSM (with
 * {{resolve:ssm}} and an SSM parameter type), EC2 security groups, IAM roles,
 * managed and inline policies, instance profiles; and custom resources backed
 * by the emulated Lambda: success with Data, FAILED with the function's
 * reason, and a silent function failing after its timeout on the clock.
 */

import {readFileSync} from 'node:fs'
import {CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, UpdateStackCommand} from '@aws-sdk/client-cloudformation'
import {CloudWatchLogsClient, DescribeLogGroupsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {DescribeSecurityGroupsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand} from '@aws-sdk/client-eventbridge'
import {GetInstanceProfileCommand, GetRoleCommand, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand} from '@aws-sdk/client-iam'
import {GetFunctionConfigurationCommand, GetPolicyCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {GetObjectCommand, HeadBucketCommand} from '@aws-sdk/client-s3'
import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetParameterCommand, PutParameterCommand, SSMClient} from '@aws-sdk/client-ssm'
import test from 'ava'
import {type CfnFixture, credentials, eventsOf, failure, region, settled, startCfn} from './helpers.js'

let f: CfnFixture
let clients: {
  lambda: LambdaClient
  logs: CloudWatchLogsClient
  events: EventBridgeClient
  secrets: SecretsManagerClient
  ssm: SSMClient
  ec2: EC2Client
}

test.before(async () => {
  f = await startCfn()
  const config = {endpoint: f.server.endpoint, region, credentials}
  clients = {
    lambda: new LambdaClient(config),
    logs: new CloudWatchLogsClient(config),
    events: new EventBridgeClient(config),
    secrets: new SecretsManagerClient(config),
    ssm: new SSMClient(config),
    ec2: new EC2Client(config),
  }
  await clients.ssm.send(new PutParameterCommand({Name: '/cfn/test/prefix', Value: 'svc', Type: 'String'}))
})

test.after.always(async () => {
  await f?.server.close()
})

const ALL = readFileSync(new URL('./fixtures/every-intrinsic.yaml', import.meta.url), 'utf8')

test('a YAML template with every intrinsic deploys every provider, then deletes it all', async (t) => {
  const refused = await failure(f.cfn.send(new CreateStackCommand({StackName: 'all', TemplateBody: ALL})))
  t.is(refused.name, 'InsufficientCapabilitiesException')
  t.is(refused.message, 'Requires capabilities : [CAPABILITY_IAM]')
  await f.cfn.send(new CreateStackCommand({StackName: 'all', TemplateBody: ALL, Capabilities: ['CAPABILITY_IAM']}))
  const stack = await settled(f.cfn, 'all', 80_000)
  const events = await eventsOf(f.cfn, 'all')
  const failed = events.filter((e) => e.ResourceStatus?.endsWith('FAILED')).map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
  t.is(stack.StackStatus, 'CREATE_COMPLETE', failed.join('\n'))
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]))
  t.is(outputs.Echo, 'small!')
  t.is(outputs.CustomId, 'echo-small')
  t.is(outputs.Azs, 'us-east-1a,us-east-1b,us-east-1c,us-east-1d,us-east-1e,us-east-1f')
  t.is(outputs.Split, 'c')
  t.is(outputs.Secret, '****')
  t.is(outputs.Both, 'dev-arn:aws:s3:::svc-cfn-dev-b')
  t.is(outputs.NoValue, 'none')
  t.is(stack.Parameters?.find((p) => p.ParameterKey === 'Secret')?.ParameterValue, '****')
  t.is(stack.Parameters?.find((p) => p.ParameterKey === 'Prefix')?.ResolvedValue, 'svc')
  t.false(events.some((e) => e.LogicalResourceId === 'OnlyInProd'))

  await f.s3.send(new HeadBucketCommand({Bucket: 'svc-cfn-dev-b'}))
  const fn = await clients.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'all-echo'}))
  t.is(fn.MemorySize, 128)
  t.is(fn.Environment?.Variables?.BUCKET, 'svc-cfn-dev-b')
  t.is(fn.Environment?.Variables?.ENCODED, Buffer.from('hello').toString('base64'))
  const policy = JSON.parse((await clients.lambda.send(new GetPolicyCommand({FunctionName: 'all-echo'}))).Policy!)
  t.is(policy.Statement[0].Principal.Service, 'events.amazonaws.com')
  const groups = await clients.logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: '/aws/lambda/all-echo'}))
  t.is(groups.logGroups?.[0]?.retentionInDays, 7)
  const schedule = events.find((e) => e.LogicalResourceId === 'Schedule' && e.ResourceStatus === 'CREATE_COMPLETE')!.PhysicalResourceId!
  const rule = await clients.events.send(new DescribeRuleCommand({Name: schedule}))
  t.is(rule.ScheduleExpression, 'rate(1 hour)')
  t.is(rule.State, 'DISABLED')
  t.is((await clients.events.send(new ListTargetsByRuleCommand({Rule: schedule}))).Targets?.[0]?.Arn, fn.FunctionArn)
  const passwordArn = events.find((e) => e.LogicalResourceId === 'Password' && e.ResourceStatus === 'CREATE_COMPLETE')!.PhysicalResourceId!
  const secret = JSON.parse((await clients.secrets.send(new GetSecretValueCommand({SecretId: passwordArn}))).SecretString!)
  t.is(secret.username, 'alice')
  t.regex(secret.password, /^[A-Za-z0-9]{20}$/)
  const copyName = events.find((e) => e.LogicalResourceId === 'Copy' && e.ResourceStatus === 'CREATE_COMPLETE')!.PhysicalResourceId!
  t.is((await clients.ssm.send(new GetParameterCommand({Name: copyName}))).Parameter?.Value, 'alice-svc')
  // The dynamic reference stays unresolved in what the stack shows.
  t.true(events.some((e) => e.LogicalResourceId === 'Copy' && e.ResourceProperties?.includes('{{resolve:secretsmanager:')))
  const sg = await clients.ec2.send(new DescribeSecurityGroupsCommand({GroupIds: [outputs.GroupId!]}))
  t.is(sg.SecurityGroups?.[0]?.IpPermissions?.[0]?.IpRanges?.[0]?.CidrIp, '10.0.0.0/24')
  const roleName = events.find((e) => e.LogicalResourceId === 'Role' && e.ResourceStatus === 'CREATE_COMPLETE')!.PhysicalResourceId!
  await f.iam.send(new GetRoleCommand({RoleName: roleName}))
  t.deepEqual((await f.iam.send(new ListRolePoliciesCommand({RoleName: roleName}))).PolicyNames?.sort(), ['extra', 'logs'])
  t.is((await f.iam.send(new ListAttachedRolePoliciesCommand({RoleName: roleName}))).AttachedPolicies?.length, 1)
  const profileName = events.find((e) => e.LogicalResourceId === 'Profile' && e.ResourceStatus === 'CREATE_COMPLETE')!.PhysicalResourceId!
  t.is((await f.iam.send(new GetInstanceProfileCommand({InstanceProfileName: profileName}))).InstanceProfile?.Arn, outputs.ProfileArn)

  // An update of the custom resource sends Update with the old properties; a new physical id replaces it.
  await f.cfn.send(
    new UpdateStackCommand({
      StackName: 'all',
      UsePreviousTemplate: true,
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: [
        {ParameterKey: 'Env', ParameterValue: 'prod'},
        {ParameterKey: 'Subnets', UsePreviousValue: true},
        {ParameterKey: 'Secret', UsePreviousValue: true},
        {ParameterKey: 'Prefix', UsePreviousValue: true},
      ],
    }),
  )
  const updated = await settled(f.cfn, 'all', 80_000)
  const updateEvents = await eventsOf(f.cfn, 'all')
  t.is(
    updated.StackStatus,
    'UPDATE_COMPLETE',
    updateEvents
      .filter((e) => e.ResourceStatus?.endsWith('FAILED'))
      .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
      .join('\n'),
  )
  const after = Object.fromEntries((updated.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]))
  t.is(after.Echo, 'big!')
  t.is(after.CustomId, 'echo-big')
  t.true(after.NoValue!.startsWith('all-onlyinprod-'))
  t.is((await clients.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'all-echo'}))).MemorySize, 512)
  // The old physical custom resource was deleted in clean-up, the bucket moved to its new name.
  t.true(
    updateEvents.some(
      (e) => e.LogicalResourceId === 'Custom' && e.ResourceStatus === 'DELETE_COMPLETE' && e.PhysicalResourceId === 'echo-small',
    ),
  )

  await f.cfn.send(new DeleteStackCommand({StackName: 'all'}))
  const deleted = await settled(f.cfn, stack.StackId!, 80_000)
  t.is(deleted.StackStatus, 'DELETE_COMPLETE')
  t.is(
    (await failure(clients.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'all-echo'})))).name,
    'ResourceNotFoundException',
  )
  t.is((await failure(clients.secrets.send(new GetSecretValueCommand({SecretId: passwordArn})))).name, 'ResourceNotFoundException')
  t.is((await failure(clients.ssm.send(new GetParameterCommand({Name: copyName})))).name, 'ParameterNotFound')
  t.is((await failure(f.iam.send(new GetRoleCommand({RoleName: roleName})))).name, 'NoSuchEntityException')
  void GetObjectCommand
})

const customTemplate = (mode: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
          },
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: {'Fn::GetAtt': ['Role', 'Arn']},
          Timeout: 3,
          Code: {
            ZipFile: [
              "const response = require('cfn-response');",
              'exports.handler = async (event, context) => {',
              "  if (event.ResourceProperties.Mode === 'silent' && event.RequestType === 'Create') return;",
              "  if (event.ResourceProperties.Mode === 'fail' && event.RequestType === 'Create') return response.send(event, context, response.FAILED, {Reason: 'the folders could not be made'});",
              "  return response.send(event, context, response.SUCCESS, {}, event.PhysicalResourceId || 'made');",
              '};',
            ].join('\n'),
          },
        },
      },
      Thing: {Type: 'AWS::CloudFormation::CustomResource', Properties: {ServiceToken: {'Fn::GetAtt': ['Fn', 'Arn']}, Mode: mode, ...extra}},
    },
  })

test("a custom resource answering FAILED fails the stack with the function's reason and rolls back", async (t) => {
  await f.cfn.send(
    new CreateStackCommand({StackName: 'custom-fail', TemplateBody: customTemplate('fail'), Capabilities: ['CAPABILITY_IAM']}),
  )
  const stack = await settled(f.cfn, 'custom-fail', 60_000)
  t.is(stack.StackStatus, 'ROLLBACK_COMPLETE')
  const events = await eventsOf(f.cfn, 'custom-fail')
  const failed = events.find((e) => e.LogicalResourceId === 'Thing' && e.ResourceStatus === 'CREATE_FAILED')!
  t.regex(
    failed.ResourceStatusReason!,
    /^Received response status \[FAILED\] from custom resource\. Message returned: the folders could not be made \(RequestId: /,
  )
})

test('a custom resource whose function never answers fails after its timeout on the emulator clock', async (t) => {
  await f.cfn.send(
    new CreateStackCommand({
      StackName: 'custom-silent',
      TemplateBody: customTemplate('silent', {ServiceTimeout: 120}),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  )
  // Wait until the request is out, then move the clock past the timeout instead of sleeping two minutes.
  for (let i = 0; i < 400; i++) {
    const events = await eventsOf(f.cfn, 'custom-silent')
    if (events.some((e) => e.LogicalResourceId === 'Thing' && e.ResourceStatus === 'CREATE_IN_PROGRESS')) break
    await new Promise((done) => setTimeout(done, 50))
  }
  await new Promise((done) => setTimeout(done, 1000))
  const still = (await f.cfn.send(new DescribeStacksCommand({StackName: 'custom-silent'}))).Stacks![0]!
  t.is(still.StackStatus, 'CREATE_IN_PROGRESS')
  await f.server.clock.advance(121_000)
  const stack = await settled(f.cfn, 'custom-silent', 60_000)
  t.is(stack.StackStatus, 'ROLLBACK_COMPLETE')
  const events = await eventsOf(f.cfn, 'custom-silent')
  const failed = events.find((e) => e.LogicalResourceId === 'Thing' && e.ResourceStatus === 'CREATE_FAILED')!
  t.regex(failed.ResourceStatusReason!, /^CloudFormation did not receive a response from your Custom Resource within 120 seconds/)
})
