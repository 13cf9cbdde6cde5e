/**
 * The must-deploy: ncap's compiled template for the seed example, through the
 * CloudFormation API, with the real handlers of lambda_repo bundled as ncap
 * deploy bundles them. Afterwards every declared resource exists in the
 * emulated services (the bucket and the group folders made by the folders
 * custom resource, the users in their groups with access keys that work and
 * whose secrets are in Secrets Manager, the functions, the rules); delete
 * removes them all, the bucket emptied by the custom resource first.
 */
import {CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, ListStackResourcesCommand} from '@aws-sdk/client-cloudformation'
import {DescribeRuleCommand, EventBridgeClient} from '@aws-sdk/client-eventbridge'
import {GetGroupCommand, GetLoginProfileCommand, GetUserCommand} from '@aws-sdk/client-iam'
import {GetFunctionConfigurationCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {seedPipeline} from '../../template/pipelines.js'
import {prepareDeploy} from './deploy-helpers.js'
import {type CfnFixture, credentials, eventsOf, failure, region, settled, startCfn} from './helpers.js'

let f: CfnFixture

test.before(async () => {
  f = await startCfn()
})

test.after.always(async () => {
  await f?.server.close()
})

test("the seed example's compiled template deploys, every resource exists, and delete removes them all", async (t) => {
  const config = {endpoint: f.server.endpoint, region, credentials}
  const lambda = new LambdaClient(config)
  const secrets = new SecretsManagerClient(config)
  const events = new EventBridgeClient(config)
  const deploy = await prepareDeploy(f.s3, seedPipeline())
  const started = Date.now()
  await f.cfn.send(
    new CreateStackCommand({
      StackName: 'dlcmonitored1',
      TemplateBody: deploy.templateBody,
      Parameters: deploy.parameters,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  )
  const stack = await settled(f.cfn, 'dlcmonitored1', 80_000)
  const createMs = Date.now() - started
  const log = await eventsOf(f.cfn, 'dlcmonitored1')
  t.is(
    stack.StackStatus,
    'CREATE_COMPLETE',
    log
      .filter((e) => e.ResourceStatus?.endsWith('FAILED'))
      .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
      .join('\n'),
  )
  t.log(`create took ${createMs} ms`)
  const template = JSON.parse(deploy.templateBody) as {Resources: Record<string, {Type: string}>}
  const resources = (await f.cfn.send(new ListStackResourcesCommand({StackName: 'dlcmonitored1'}))).StackResourceSummaries!
  t.deepEqual(resources.map((r) => r.LogicalResourceId).sort(), Object.keys(template.Resources).sort())
  t.true(resources.every((r) => r.ResourceStatus === 'CREATE_COMPLETE'))
  const outputs = Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]))

  // The bucket, with its notification and the group folders the custom resource made.
  await f.s3.send(new HeadBucketCommand({Bucket: 'dlcmonitored1'}))
  const notification = await f.s3.send(new GetBucketNotificationConfigurationCommand({Bucket: 'dlcmonitored1'}))
  t.is(notification.LambdaFunctionConfigurations?.length, 2)
  t.is(notification.LambdaFunctionConfigurations?.[0]?.LambdaFunctionArn, outputs.SubmitFunctionArn)
  const listed = await f.s3.send(new ListObjectsV2Command({Bucket: 'dlcmonitored1'}))
  const keys = (listed.Contents ?? []).map((o) => o.Key).sort()
  for (const group of ['carcealab2', 'testergroup2']) {
    for (const folder of ['inputs', 'results', 'logs', 'configs', 'submissions'])
      t.true(keys.includes(`${group}/${folder}/`), `${group}/${folder}/`)
  }

  // Users in their groups, with a console password and an access key that works, both kept in Secrets Manager.
  for (const [user, group] of [
    ['user21', 'dlcmonitored1-carcealab2'],
    ['user22', 'dlcmonitored1-carcealab2'],
    ['taiga2', 'dlcmonitored1-testergroup2'],
  ] as const) {
    await f.iam.send(new GetUserCommand({UserName: user}))
    t.true((await f.iam.send(new GetGroupCommand({GroupName: group}))).Users!.some((u) => u.UserName === user))
    t.true((await f.iam.send(new GetLoginProfileCommand({UserName: user}))).LoginProfile?.PasswordResetRequired)
    const id = user.charAt(0).toUpperCase() + user.slice(1)
    const key = JSON.parse(
      (await secrets.send(new GetSecretValueCommand({SecretId: outputs[`User${id}AccessKeySecretArn`]}))).SecretString!,
    )
    const sts = new STSClient({
      endpoint: f.server.endpoint,
      region,
      credentials: {accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey},
    })
    t.is((await sts.send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::000000000000:user/${user}`)
    const password = JSON.parse(
      (await secrets.send(new GetSecretValueCommand({SecretId: outputs[`User${id}PasswordSecretArn`]}))).SecretString!,
    )
    t.is(password.username, user)
    t.is(password.password.length, 24)
  }

  // The functions and the monitor's schedule.
  for (const name of ['dlcmonitored1-folders', 'dlcmonitored1-monitor', 'dlcmonitored1-submit']) {
    const fn = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: name}))
    t.is(fn.Runtime, 'nodejs22.x')
  }
  const ruleName = resources.find((r) => r.LogicalResourceId === 'MonitorSchedule')!.PhysicalResourceId!
  t.is((await events.send(new DescribeRuleCommand({Name: ruleName}))).ScheduleExpression, 'rate(1 minute)')

  // Data in the bucket: the custom resource empties it on delete, so the bucket goes too.
  await f.s3.send(new PutObjectCommand({Bucket: 'dlcmonitored1', Key: 'carcealab2/inputs/data.bin', Body: 'x'.repeat(1000)}))
  const stackId = stack.StackId!
  const deleting = Date.now()
  await f.cfn.send(new DeleteStackCommand({StackName: 'dlcmonitored1'}))
  const deleted = await settled(f.cfn, stackId, 80_000)
  const deleteLog = await eventsOf(f.cfn, stackId)
  t.is(
    deleted.StackStatus,
    'DELETE_COMPLETE',
    deleteLog
      .filter((e) => e.ResourceStatus?.endsWith('FAILED'))
      .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
      .join('\n'),
  )
  t.log(`delete took ${Date.now() - deleting} ms`)
  const at = (id: string) => deleteLog.findIndex((e) => e.LogicalResourceId === id && e.ResourceStatus === 'DELETE_COMPLETE')
  t.true(at('BucketFolders') < at('PipelineBucket'))
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'dlcmonitored1'})))).status, 404)
  for (const user of ['user21', 'user22', 'taiga2'])
    t.is((await failure(f.iam.send(new GetUserCommand({UserName: user})))).name, 'NoSuchEntityException')
  for (const name of ['dlcmonitored1-folders', 'dlcmonitored1-monitor', 'dlcmonitored1-submit']) {
    t.is((await failure(lambda.send(new GetFunctionConfigurationCommand({FunctionName: name})))).name, 'ResourceNotFoundException')
  }
  t.is(
    (await failure(secrets.send(new GetSecretValueCommand({SecretId: outputs.UserUser21AccessKeySecretArn})))).name,
    'ResourceNotFoundException',
  )
  t.is((await failure(events.send(new DescribeRuleCommand({Name: ruleName})))).name, 'ResourceNotFoundException')
  t.is((await failure(f.cfn.send(new DescribeStacksCommand({StackName: 'dlcmonitored1'})))).name, 'ValidationError')
  void S3Client
})
