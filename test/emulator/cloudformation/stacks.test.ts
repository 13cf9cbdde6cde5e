/**
 * Stacks over the emulated S3 and IAM through the real SDK v3 client: create,
 * describe, events in AWS's order, outputs and exports, rollback, update by
 * diff (in place and by replacement), update rollback, delete in reverse
 * order with Retain and DELETE_FAILED for a non-empty bucket, and each refusal.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListExportsCommand,
  ListImportsCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
} from '@aws-sdk/client-cloudformation'
import {CreateAccessKeyCommand, CreateUserCommand, GetGroupCommand, GetUserCommand, ListAccessKeysCommand} from '@aws-sdk/client-iam'
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {body, type CfnFixture, eventsOf, failure, settled, startCfn} from './helpers.js'

let f: CfnFixture

test.before(async () => {
  f = await startCfn()
})

test.after.always(async () => {
  await f?.server.close()
})

const waiter = (client: CfnFixture['cfn']) => ({client, maxWaitTime: 60, minDelay: 1, maxDelay: 1})

test('a bucket and IAM users in a group: created, described, events in order, deleted', async (t) => {
  const template = {
    Parameters: {Env: {Type: 'String', AllowedValues: ['dev', 'prod'], Default: 'dev'}},
    Resources: {
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketName: {'Fn::Sub': 'cfn-basic-${Env}'},
          VersioningConfiguration: {Status: 'Enabled'},
          BucketEncryption: {ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm: 'AES256'}}]},
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        },
      },
      Group: {
        Type: 'AWS::IAM::Group',
        Properties: {
          Policies: [
            {
              PolicyName: 'read',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{Effect: 'Allow', Action: 's3:GetObject', Resource: {'Fn::Sub': '${Bucket.Arn}/*'}}],
              },
            },
          ],
        },
      },
      User: {Type: 'AWS::IAM::User', Properties: {UserName: 'cfn-basic-alice', Groups: [{Ref: 'Group'}]}},
      Key: {Type: 'AWS::IAM::AccessKey', Properties: {UserName: {Ref: 'User'}}},
    },
    Outputs: {
      BucketArn: {Value: {'Fn::GetAtt': ['Bucket', 'Arn']}, Export: {Name: 'cfn-basic-bucket-arn'}},
      KeyId: {Value: {Ref: 'Key'}},
      GroupName: {Value: {Ref: 'Group'}},
    },
  }
  const refused = await failure(f.cfn.send(new CreateStackCommand({StackName: 'basic', TemplateBody: body(template)})))
  t.is(refused.name, 'InsufficientCapabilitiesException')
  t.is(refused.message, 'Requires capabilities : [CAPABILITY_NAMED_IAM]')

  const {StackId} = await f.cfn.send(
    new CreateStackCommand({StackName: 'basic', TemplateBody: body(template), Capabilities: ['CAPABILITY_NAMED_IAM']}),
  )
  t.regex(StackId!, /^arn:aws:cloudformation:us-east-1:000000000000:stack\/basic\/[0-9a-f-]{36}$/)
  await waitUntilStackCreateComplete(waiter(f.cfn), {StackName: 'basic'})
  const {Stacks} = await f.cfn.send(new DescribeStacksCommand({StackName: 'basic'}))
  const stack = Stacks![0]!
  t.is(stack.StackStatus, 'CREATE_COMPLETE')
  const outputs = Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]))
  t.is(outputs.BucketArn, 'arn:aws:s3:::cfn-basic-dev')
  t.regex(outputs.KeyId!, /^AKIA/)
  t.regex(outputs.GroupName!, /^basic-Group-[A-Z0-9]{12}$/)

  // Every resource exists in its service.
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-basic-dev'}))
  t.is((await f.s3.send(new GetBucketVersioningCommand({Bucket: 'cfn-basic-dev'}))).Status, 'Enabled')
  const sse = await f.s3.send(new GetBucketEncryptionCommand({Bucket: 'cfn-basic-dev'}))
  t.is(sse.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256')
  const group = await f.iam.send(new GetGroupCommand({GroupName: outputs.GroupName}))
  t.deepEqual(
    group.Users?.map((u) => u.UserName),
    ['cfn-basic-alice'],
  )
  const keys = await f.iam.send(new ListAccessKeysCommand({UserName: 'cfn-basic-alice'}))
  t.is(keys.AccessKeyMetadata?.[0]?.AccessKeyId, outputs.KeyId)

  // Resources and events as AWS lists them: the stack first, each resource's IN_PROGRESS before its COMPLETE, dependencies first.
  const resources = await f.cfn.send(new ListStackResourcesCommand({StackName: 'basic'}))
  t.deepEqual(
    resources.StackResourceSummaries?.map((r) => r.ResourceStatus),
    ['CREATE_COMPLETE', 'CREATE_COMPLETE', 'CREATE_COMPLETE', 'CREATE_COMPLETE'],
  )
  const events = await eventsOf(f.cfn, 'basic')
  t.is(events[0]!.ResourceStatus, 'CREATE_IN_PROGRESS')
  t.is(events[0]!.ResourceStatusReason, 'User Initiated')
  t.is(events.at(-1)!.ResourceStatus, 'CREATE_COMPLETE')
  t.is(events.at(-1)!.LogicalResourceId, 'basic')
  const at = (id: string, status: string) => events.findIndex((e) => e.LogicalResourceId === id && e.ResourceStatus === status)
  t.true(at('Bucket', 'CREATE_COMPLETE') < at('Group', 'CREATE_IN_PROGRESS'))
  t.true(at('Group', 'CREATE_COMPLETE') < at('User', 'CREATE_IN_PROGRESS'))
  t.true(at('User', 'CREATE_COMPLETE') < at('Key', 'CREATE_IN_PROGRESS'))
  t.is(
    events.find((e) => e.LogicalResourceId === 'Bucket' && e.ResourceStatusReason === 'Resource creation Initiated')?.PhysicalResourceId,
    'cfn-basic-dev',
  )

  const exports = await f.cfn.send(new ListExportsCommand({}))
  t.true(exports.Exports!.some((e) => e.Name === 'cfn-basic-bucket-arn' && e.Value === 'arn:aws:s3:::cfn-basic-dev'))
  t.is((await f.cfn.send(new GetTemplateCommand({StackName: 'basic'}))).TemplateBody, body(template))

  // Termination protection stops a delete until it is turned off.
  await f.cfn.send(new UpdateTerminationProtectionCommand({StackName: 'basic', EnableTerminationProtection: true}))
  const protectedDelete = await failure(f.cfn.send(new DeleteStackCommand({StackName: 'basic'})))
  t.is(protectedDelete.name, 'ValidationError')
  t.regex(protectedDelete.message, /TerminationProtection is enabled/)
  await f.cfn.send(new UpdateTerminationProtectionCommand({StackName: 'basic', EnableTerminationProtection: false}))

  await f.cfn.send(new DeleteStackCommand({StackName: 'basic'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'basic'})
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-basic-dev'})))).status, 404)
  t.is((await failure(f.iam.send(new GetUserCommand({UserName: 'cfn-basic-alice'})))).name, 'NoSuchEntityException')
  const gone = await failure(f.cfn.send(new DescribeStacksCommand({StackName: 'basic'})))
  t.is(gone.message, 'Stack with id basic does not exist')
  const listed = await f.cfn.send(new ListStacksCommand({StackStatusFilter: ['DELETE_COMPLETE']}))
  t.true(listed.StackSummaries!.some((s) => s.StackId === StackId))
  // Deleted stacks stay readable by id.
  const byId = await f.cfn.send(new DescribeStacksCommand({StackName: StackId}))
  t.is(byId.Stacks![0]!.StackStatus, 'DELETE_COMPLETE')
  const deleteEvents = await eventsOf(f.cfn, StackId!)
  const del = (id: string) => deleteEvents.findIndex((e) => e.LogicalResourceId === id && e.ResourceStatus === 'DELETE_COMPLETE')
  t.true(del('Key') < del('User') && del('User') < del('Group') && del('Group') < del('Bucket'))
})

test('a failing resource rolls the create back: ROLLBACK_COMPLETE, every created resource gone', async (t) => {
  const template = {
    Resources: {
      Good: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-rollback-good'}},
      Bad: {Type: 'AWS::IAM::User', DependsOn: 'Good', Properties: {UserName: 'bad name with spaces'}},
    },
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'rollback', TemplateBody: body(template), Capabilities: ['CAPABILITY_NAMED_IAM']}))
  const stack = await settled(f.cfn, 'rollback')
  t.is(stack.StackStatus, 'ROLLBACK_COMPLETE')
  t.is(stack.StackStatusReason, undefined)
  const events = await eventsOf(f.cfn, 'rollback')
  const failed = events.find((e) => e.ResourceStatus === 'CREATE_FAILED')!
  t.is(failed.LogicalResourceId, 'Bad')
  t.truthy(failed.ResourceStatusReason)
  const rollback = events.find((e) => e.ResourceStatus === 'ROLLBACK_IN_PROGRESS')!
  t.is(rollback.ResourceStatusReason, 'The following resource(s) failed to create: [Bad]. Rollback requested by user.')
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-rollback-good'})))).status, 404)
  t.deepEqual(
    events.map((e) => e.ResourceStatus).filter((s) => s?.startsWith('ROLLBACK')),
    ['ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE'],
  )
  // A rolled-back stack can only be deleted.
  await f.cfn.send(new DeleteStackCommand({StackName: 'rollback'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'rollback'})
  t.pass()
})

test('--disable-rollback keeps the created resources and ends CREATE_FAILED', async (t) => {
  const template = {
    Resources: {
      Good: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-norollback-good'}},
      Bad: {Type: 'AWS::S3::Bucket', DependsOn: 'Good', Properties: {BucketName: 'Invalid_Bucket_Name'}},
    },
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'norollback', TemplateBody: body(template), DisableRollback: true}))
  const stack = await settled(f.cfn, 'norollback')
  t.is(stack.StackStatus, 'CREATE_FAILED')
  t.is(stack.StackStatusReason, 'The following resource(s) failed to create: [Bad]. ')
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-norollback-good'}))
  await f.cfn.send(new DeleteStackCommand({StackName: 'norollback'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'norollback'})
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-norollback-good'})))).status, 404)
})

test('update by diff: in place, then a bucket replaced new-first with the old one deleted in clean-up', async (t) => {
  const v1 = {
    Resources: {
      Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-update-one'}},
      Group: {Type: 'AWS::IAM::Group', Properties: {Path: '/a/'}},
    },
    Outputs: {Name: {Value: {Ref: 'Bucket'}}},
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'update', TemplateBody: body(v1), Capabilities: ['CAPABILITY_IAM']}))
  t.is((await settled(f.cfn, 'update')).StackStatus, 'CREATE_COMPLETE')
  const noChange = await failure(
    f.cfn.send(new UpdateStackCommand({StackName: 'update', TemplateBody: body(v1), Capabilities: ['CAPABILITY_IAM']})),
  )
  t.is(noChange.message, 'No updates are to be performed.')

  const v2 = structuredClone(v1) as typeof v1 & {Resources: {Bucket: {Properties: Record<string, unknown>}}}
  v2.Resources.Bucket.Properties.VersioningConfiguration = {Status: 'Enabled'}
  await f.cfn.send(new UpdateStackCommand({StackName: 'update', TemplateBody: body(v2), Capabilities: ['CAPABILITY_IAM']}))
  t.is((await settled(f.cfn, 'update')).StackStatus, 'UPDATE_COMPLETE')
  t.is((await f.s3.send(new GetBucketVersioningCommand({Bucket: 'cfn-update-one'}))).Status, 'Enabled')

  const v3 = structuredClone(v2)
  v3.Resources.Bucket.Properties.BucketName = 'cfn-update-two'
  await f.cfn.send(new UpdateStackCommand({StackName: 'update', TemplateBody: body(v3), Capabilities: ['CAPABILITY_IAM']}))
  const after = await settled(f.cfn, 'update')
  t.is(after.StackStatus, 'UPDATE_COMPLETE')
  t.is(after.Outputs?.[0]?.OutputValue, 'cfn-update-two')
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-update-two'}))
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-update-one'})))).status, 404)
  const events = await eventsOf(f.cfn, 'update')
  const i = (status: string, physical?: string) =>
    events.length -
    1 -
    [...events]
      .reverse()
      .findIndex(
        (e) =>
          e.LogicalResourceId === status.split(':')[0] &&
          e.ResourceStatus === status.split(':')[1] &&
          (physical === undefined || e.PhysicalResourceId === physical),
      )
  const replacing = events.find((e) =>
    e.ResourceStatusReason?.startsWith('Requested update requires the creation of a new physical resource'),
  )
  t.truthy(replacing)
  t.true(i('Bucket:UPDATE_COMPLETE', 'cfn-update-two') < i('update:UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'))
  t.true(i('update:UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') < i('Bucket:DELETE_COMPLETE', 'cfn-update-one'))
  await f.cfn.send(new DeleteStackCommand({StackName: 'update'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'update'})
})

test('a failing update rolls back to the previous template: UPDATE_ROLLBACK_COMPLETE', async (t) => {
  const v1 = {Resources: {Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-urb-one'}}}}
  await f.cfn.send(new CreateStackCommand({StackName: 'urb', TemplateBody: body(v1)}))
  await settled(f.cfn, 'urb')
  const v2 = {
    Resources: {
      Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-urb-one', VersioningConfiguration: {Status: 'Enabled'}}},
      Extra: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-urb-extra'}},
      Broken: {Type: 'AWS::S3::Bucket', DependsOn: ['Extra', 'Bucket'], Properties: {BucketName: 'NOT valid'}},
    },
  }
  await f.cfn.send(new UpdateStackCommand({StackName: 'urb', TemplateBody: body(v2)}))
  const stack = await settled(f.cfn, 'urb')
  t.is(stack.StackStatus, 'UPDATE_ROLLBACK_COMPLETE')
  const events = await eventsOf(f.cfn, 'urb')
  t.is(
    events.find((e) => e.ResourceStatus === 'UPDATE_ROLLBACK_IN_PROGRESS')?.ResourceStatusReason,
    'The following resource(s) failed to create: [Broken]. ',
  )
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-urb-extra'})))).status, 404)
  t.is((await f.s3.send(new GetBucketVersioningCommand({Bucket: 'cfn-urb-one'}))).Status, 'Suspended')
  t.is((await f.cfn.send(new GetTemplateCommand({StackName: 'urb'}))).TemplateBody, body(v1))
  const resources = await f.cfn.send(new DescribeStackResourcesCommand({StackName: 'urb'}))
  t.deepEqual(
    resources.StackResources?.map((r) => r.LogicalResourceId),
    ['Bucket'],
  )
  await f.cfn.send(new DeleteStackCommand({StackName: 'urb'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'urb'})
})

test('delete: a non-empty bucket fails DELETE_FAILED, Retain is skipped, a retry after emptying completes', async (t) => {
  const template = {
    Resources: {
      Full: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-del-full'}},
      Kept: {Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', Properties: {BucketName: 'cfn-del-kept'}},
    },
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'del', TemplateBody: body(template)}))
  await settled(f.cfn, 'del')
  await f.s3.send(new PutObjectCommand({Bucket: 'cfn-del-full', Key: 'x', Body: 'x'}))
  await f.cfn.send(new DeleteStackCommand({StackName: 'del'}))
  const failed = await settled(f.cfn, 'del')
  t.is(failed.StackStatus, 'DELETE_FAILED')
  t.is(failed.StackStatusReason, 'The following resource(s) failed to delete: [Full]. ')
  const events = await eventsOf(f.cfn, 'del')
  t.regex(
    events.find((e) => e.ResourceStatus === 'DELETE_FAILED' && e.LogicalResourceId === 'Full')!.ResourceStatusReason!,
    /BucketNotEmpty/,
  )
  t.truthy(events.find((e) => e.LogicalResourceId === 'Kept' && e.ResourceStatus === 'DELETE_SKIPPED'))
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-del-kept'}))
  await f.s3.send(new DeleteObjectCommand({Bucket: 'cfn-del-full', Key: 'x'}))
  await f.cfn.send(new DeleteStackCommand({StackName: 'del'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'del'})
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-del-kept'}))
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-del-full'})))).status, 404)
})

test('refusals: cycle with its path, unknown type, bad parameter value, missing parameter, unknown GetAtt', async (t) => {
  const cycle = {
    Resources: {
      A: {Type: 'AWS::S3::Bucket', DependsOn: 'C'},
      B: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {Ref: 'A'}}},
      C: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': '${B}-x'}}},
    },
  }
  const c = await failure(f.cfn.send(new CreateStackCommand({StackName: 'cycle', TemplateBody: body(cycle)})))
  t.is(c.name, 'ValidationError')
  t.regex(c.message, /^Circular dependency between resources: \[/)
  t.regex(c.message, /A -> C -> B -> A|B -> A -> C -> B|C -> B -> A -> C/)
  const unknown = {Resources: {Q: {Type: 'AWS::SQS::Queue'}, B: {Type: 'AWS::S3::Bucket'}}}
  const u = await failure(f.cfn.send(new CreateStackCommand({StackName: 'unknown', TemplateBody: body(unknown)})))
  t.is(u.message, 'Resource type AWS::SQS::Queue is not supported by the ncap emulator')
  const v = await failure(f.cfn.send(new ValidateTemplateCommand({TemplateBody: body(unknown)})))
  t.is(v.message, 'Resource type AWS::SQS::Queue is not supported by the ncap emulator')
  const params = {
    Parameters: {
      Env: {Type: 'String', AllowedValues: ['dev', 'prod']},
      Size: {Type: 'Number', MinValue: 1, MaxValue: 10, Default: 5},
      Name: {Type: 'String', AllowedPattern: '[a-z]+', ConstraintDescription: 'lowercase letters only', Default: 'abc'},
    },
    Resources: {B: {Type: 'AWS::S3::Bucket'}},
  }
  const bad = await failure(
    f.cfn.send(
      new CreateStackCommand({
        StackName: 'params',
        TemplateBody: body(params),
        Parameters: [{ParameterKey: 'Env', ParameterValue: 'staging'}],
      }),
    ),
  )
  t.is(bad.message, "Parameter 'Env' must be one of AllowedValues")
  const big = await failure(
    f.cfn.send(
      new CreateStackCommand({
        StackName: 'params',
        TemplateBody: body(params),
        Parameters: [
          {ParameterKey: 'Env', ParameterValue: 'dev'},
          {ParameterKey: 'Size', ParameterValue: '11'},
        ],
      }),
    ),
  )
  t.is(big.message, "Parameter 'Size' must be a number not greater than 10")
  const pattern = await failure(
    f.cfn.send(
      new CreateStackCommand({
        StackName: 'params',
        TemplateBody: body(params),
        Parameters: [
          {ParameterKey: 'Env', ParameterValue: 'dev'},
          {ParameterKey: 'Name', ParameterValue: 'ABC'},
        ],
      }),
    ),
  )
  t.is(pattern.message, "Parameter 'Name' failed to satisfy constraint: lowercase letters only")
  const missing = await failure(f.cfn.send(new CreateStackCommand({StackName: 'params', TemplateBody: body(params)})))
  t.is(missing.message, 'Parameters: [Env] must have values')
  const extra = await failure(
    f.cfn.send(
      new CreateStackCommand({StackName: 'params', TemplateBody: body(params), Parameters: [{ParameterKey: 'Nope', ParameterValue: 'x'}]}),
    ),
  )
  t.is(extra.message, 'Parameters: [Nope] do not exist in the template')
  const att = {Resources: {B: {Type: 'AWS::S3::Bucket'}}, Outputs: {X: {Value: {'Fn::GetAtt': ['B', 'Nope']}}}}
  const a = await failure(f.cfn.send(new CreateStackCommand({StackName: 'att', TemplateBody: body(att)})))
  t.is(a.message, 'Template error: resource B does not support attribute type Nope in Fn::GetAtt')
  const dup = {Resources: {B: {Type: 'AWS::S3::Bucket'}}}
  await f.cfn.send(new CreateStackCommand({StackName: 'dup', TemplateBody: body(dup)}))
  const again = await failure(f.cfn.send(new CreateStackCommand({StackName: 'dup', TemplateBody: body(dup)})))
  t.is(again.name, 'AlreadyExistsException')
  t.is(again.message, 'Stack [dup] already exists')
  await settled(f.cfn, 'dup')
  await f.cfn.send(new DeleteStackCommand({StackName: 'dup'}))
  await settled(f.cfn, 'dup').catch(() => undefined)
})

test('exports and imports: a missing export fails the stack, an imported export cannot be deleted', async (t) => {
  const importer = {
    Resources: {
      B: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Join': ['-', [{'Fn::ImportValue': 'cfn-shared-prefix'}, 'importer']]}}},
    },
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'importer-early', TemplateBody: body(importer)}))
  const early = await settled(f.cfn, 'importer-early')
  t.is(early.StackStatus, 'ROLLBACK_COMPLETE')
  const events = await eventsOf(f.cfn, 'importer-early')
  t.is(
    events.find((e) => e.ResourceStatus === 'ROLLBACK_IN_PROGRESS')?.ResourceStatusReason,
    'No export named cfn-shared-prefix found. Rollback requested by user.',
  )

  const exporter = {
    Resources: {B: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-shared'}}},
    Outputs: {Prefix: {Value: {Ref: 'B'}, Export: {Name: 'cfn-shared-prefix'}}},
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'exporter', TemplateBody: body(exporter)}))
  t.is((await settled(f.cfn, 'exporter')).StackStatus, 'CREATE_COMPLETE')
  await f.cfn.send(new CreateStackCommand({StackName: 'importer', TemplateBody: body(importer)}))
  t.is((await settled(f.cfn, 'importer')).StackStatus, 'CREATE_COMPLETE')
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-shared-importer'}))
  t.deepEqual((await f.cfn.send(new ListImportsCommand({ExportName: 'cfn-shared-prefix'}))).Imports, ['importer'])

  await f.cfn.send(new DeleteStackCommand({StackName: 'exporter'}))
  const refused = await settled(f.cfn, 'exporter')
  t.is(refused.StackStatus, 'DELETE_FAILED')
  t.is(refused.StackStatusReason, 'Export cfn-shared-prefix cannot be deleted as it is in use by importer')
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-shared'}))

  await f.cfn.send(new DeleteStackCommand({StackName: 'importer'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'importer'})
  await f.cfn.send(new DeleteStackCommand({StackName: 'exporter'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'exporter'})
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-shared'})))).status, 404)
})

test('change sets: per-resource action, replacement and causing property; execute; an empty one FAILED with AWS reason', async (t) => {
  const v1 = {
    Parameters: {Tag: {Type: 'String', Default: 'a'}},
    Resources: {
      Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-cs-one'}},
      Policy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: {Ref: 'Bucket'},
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: {'Fn::GetAtt': ['Bucket', 'Arn']}}],
          },
        },
      },
      Group: {
        Type: 'AWS::IAM::Group',
        Properties: {
          Policies: [
            {
              PolicyName: 'tagged',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{Effect: 'Allow', Action: 's3:GetObject', Resource: {'Fn::Sub': 'arn:aws:s3:::${Tag}/*'}}],
              },
            },
          ],
        },
      },
    },
  }
  const created = await f.cfn.send(
    new CreateChangeSetCommand({
      StackName: 'cs',
      ChangeSetName: 'first',
      ChangeSetType: 'CREATE',
      TemplateBody: body(v1),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  )
  await waitUntilChangeSetCreateComplete(waiter(f.cfn), {ChangeSetName: created.Id!})
  const first = await f.cfn.send(new DescribeChangeSetCommand({ChangeSetName: created.Id!}))
  t.is(first.Status, 'CREATE_COMPLETE')
  t.deepEqual(first.Changes?.map((c) => [c.ResourceChange?.Action, c.ResourceChange?.LogicalResourceId]).sort(), [
    ['Add', 'Bucket'],
    ['Add', 'Group'],
    ['Add', 'Policy'],
  ])
  t.is((await f.cfn.send(new DescribeStacksCommand({StackName: 'cs'}))).Stacks![0]!.StackStatus, 'REVIEW_IN_PROGRESS')
  await f.cfn.send(new ExecuteChangeSetCommand({ChangeSetName: created.Id!}))
  await waitUntilStackCreateComplete(waiter(f.cfn), {StackName: 'cs'})

  const v2 = structuredClone(v1) as typeof v1
  v2.Resources.Bucket.Properties.BucketName = 'cfn-cs-two'
  const update = await f.cfn.send(
    new CreateChangeSetCommand({
      StackName: 'cs',
      ChangeSetName: 'rename',
      TemplateBody: body(v2),
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: [{ParameterKey: 'Tag', ParameterValue: 'b'}],
    }),
  )
  await waitUntilChangeSetCreateComplete(waiter(f.cfn), {ChangeSetName: update.Id!})
  const changes = (await f.cfn.send(new DescribeChangeSetCommand({ChangeSetName: update.Id!}))).Changes!.map((c) => c.ResourceChange!)
  const bucket = changes.find((c) => c.LogicalResourceId === 'Bucket')!
  t.is(bucket.Action, 'Modify')
  t.is(bucket.Replacement, 'True')
  t.is(bucket.PhysicalResourceId, 'cfn-cs-one')
  t.deepEqual(bucket.Details, [
    {
      Target: {Attribute: 'Properties', Name: 'BucketName', RequiresRecreation: 'Always'},
      Evaluation: 'Static',
      ChangeSource: 'DirectModification',
    },
  ])
  const policy = changes.find((c) => c.LogicalResourceId === 'Policy')!
  // Its Bucket is only known once the new bucket exists: AWS says Conditional for a Dynamic evaluation.
  t.is(policy.Replacement, 'Conditional')
  t.true(policy.Details!.some((d) => d.ChangeSource === 'ResourceReference' && d.CausingEntity === 'Bucket' && d.Evaluation === 'Dynamic'))
  const group = changes.find((c) => c.LogicalResourceId === 'Group')!
  t.is(group.Replacement, 'False')
  t.deepEqual(group.Details, [
    {
      Target: {Attribute: 'Properties', Name: 'Policies', RequiresRecreation: 'Never'},
      Evaluation: 'Static',
      ChangeSource: 'ParameterReference',
      CausingEntity: 'Tag',
    },
  ])
  await f.cfn.send(new ExecuteChangeSetCommand({ChangeSetName: update.Id!}))
  const updated = await settled(f.cfn, 'cs')
  const why = (await eventsOf(f.cfn, 'cs'))
    .filter((e) => e.ResourceStatus?.endsWith('FAILED'))
    .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
  t.is(updated.StackStatus, 'UPDATE_COMPLETE', why.join('\n'))
  await f.s3.send(new HeadBucketCommand({Bucket: 'cfn-cs-two'}))
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-cs-one'})))).status, 404)

  const empty = await f.cfn.send(
    new CreateChangeSetCommand({
      StackName: 'cs',
      ChangeSetName: 'nothing',
      TemplateBody: body(v2),
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: [{ParameterKey: 'Tag', UsePreviousValue: true}],
    }),
  )
  const described = await f.cfn.send(new DescribeChangeSetCommand({ChangeSetName: empty.Id!}))
  t.is(described.Status, 'FAILED')
  t.is(described.StatusReason, "The submitted information didn't contain changes. Submit different information to create a change set.")
  t.is(described.ExecutionStatus, 'UNAVAILABLE')
  await f.cfn.send(new DeleteStackCommand({StackName: 'cs'}))
  await waitUntilStackDeleteComplete(waiter(f.cfn), {StackName: 'cs'})
})

test('every call is authorized: a user without cloudformation permissions is refused with AccessDenied', async (t) => {
  await f.iam.send(new CreateUserCommand({UserName: 'cfn-nobody'}))
  const key = (await f.iam.send(new CreateAccessKeyCommand({UserName: 'cfn-nobody'}))).AccessKey!
  const cfn = new CloudFormationClient({
    endpoint: f.server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey!},
  })
  const denied = await failure(cfn.send(new DescribeStacksCommand({})))
  t.is(denied.name, 'AccessDenied')
  t.regex(denied.message, /cloudformation:DescribeStacks/)
  const create = await failure(
    cfn.send(new CreateStackCommand({StackName: 'nope', TemplateBody: body({Resources: {B: {Type: 'AWS::S3::Bucket'}}})})),
  )
  t.is(create.name, 'AccessDenied')
  t.regex(create.message, /cloudformation:CreateStack/)
})
