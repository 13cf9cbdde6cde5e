/**
 * Nested stacks: TemplateURL from the emulated S3 in every URL form AWS
 * accepts and the emulator's own endpoint, outputs read by Fn::GetAtt
 * Stack.Outputs.X, the children listed with their parent and their events
 * visible, a failing child rolling its parent back, and a parent's delete
 * deleting its children.
 */
import {CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, ListStacksCommand} from '@aws-sdk/client-cloudformation'
import {CreateBucketCommand, HeadBucketCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import test from 'ava'
import {body, type CfnFixture, eventsOf, failure, settled, startCfn} from './helpers.js'

let f: CfnFixture

test.before(async () => {
  f = await startCfn()
  await f.s3.send(new CreateBucketCommand({Bucket: 'cfn-templates'}))
})

test.after.always(async () => {
  await f?.server.close()
})

const child = (suffix: string) => ({
  Parameters: {Prefix: {Type: 'String'}},
  Resources: {Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': '${Prefix}-' + suffix}}}},
  Outputs: {Name: {Value: {Ref: 'Bucket'}}, Arn: {Value: {'Fn::GetAtt': ['Bucket', 'Arn']}}},
})

test('nested stacks from every TemplateURL form: outputs, parent and children, events, delete cascades', async (t) => {
  const forms = {
    PathStyle: 'https://s3.amazonaws.com/cfn-templates/a.json',
    Regional: 'https://s3.us-east-1.amazonaws.com/cfn-templates/b.json',
    Virtual: 'https://cfn-templates.s3.amazonaws.com/c.json',
    VirtualRegional: 'https://cfn-templates.s3.us-east-1.amazonaws.com/d.json',
    Endpoint: `${f.server.endpoint}/cfn-templates/e.json`,
  }
  const resources: Record<string, unknown> = {}
  for (const [id, url] of Object.entries(forms)) {
    const key = url.split('/').pop()!
    await f.s3.send(new PutObjectCommand({Bucket: 'cfn-templates', Key: key, Body: body(child(id.toLowerCase()))}))
    resources[id] = {Type: 'AWS::CloudFormation::Stack', Properties: {TemplateURL: url, Parameters: {Prefix: 'cfn-nested'}}}
  }
  const parent = {
    Resources: resources,
    Outputs: Object.fromEntries(Object.keys(forms).map((id) => [id, {Value: {'Fn::GetAtt': [id, 'Outputs.Name']}}])),
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'parent', TemplateBody: body(parent)}))
  const stack = await settled(f.cfn, 'parent')
  t.is(
    stack.StackStatus,
    'CREATE_COMPLETE',
    (await eventsOf(f.cfn, 'parent')).map((e) => `${e.LogicalResourceId} ${e.ResourceStatus} ${e.ResourceStatusReason ?? ''}`).join('\n'),
  )
  const outputs = Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]))
  for (const id of Object.keys(forms)) {
    t.is(outputs[id], `cfn-nested-${id.toLowerCase()}`)
    await f.s3.send(new HeadBucketCommand({Bucket: `cfn-nested-${id.toLowerCase()}`}))
  }
  const children = (await f.cfn.send(new DescribeStacksCommand({}))).Stacks!.filter((s) => s.ParentId === stack.StackId)
  t.is(children.length, 5)
  t.true(children.every((c) => c.RootId === stack.StackId && c.StackName!.startsWith('parent-')))
  const childEvents = await eventsOf(f.cfn, children[0]!.StackId!)
  t.deepEqual(
    childEvents.filter((e) => e.LogicalResourceId === 'Bucket').map((e) => e.ResourceStatus),
    ['CREATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE'],
  )
  await f.cfn.send(
    new CreateStackCommand({
      StackName: 'badurl',
      TemplateBody: body({Resources: {S: {Type: 'AWS::CloudFormation::Stack', Properties: {TemplateURL: 'https://example.com/x.json'}}}}),
    }),
  )
  t.is((await settled(f.cfn, 'badurl')).StackStatus, 'ROLLBACK_COMPLETE')
  const badEvents = await eventsOf(f.cfn, 'badurl')
  t.regex(
    badEvents.find((e) => e.ResourceStatus === 'CREATE_FAILED')!.ResourceStatusReason!,
    /^TemplateURL must reference a valid S3 object to which you have access/,
  )

  await f.cfn.send(new DeleteStackCommand({StackName: 'parent'}))
  t.is((await settled(f.cfn, stack.StackId!)).StackStatus, 'DELETE_COMPLETE')
  for (const c of children)
    t.is((await f.cfn.send(new DescribeStacksCommand({StackName: c.StackId}))).Stacks![0]!.StackStatus, 'DELETE_COMPLETE')
  for (const id of Object.keys(forms))
    t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: `cfn-nested-${id.toLowerCase()}`})))).status, 404)
})

test('a failing nested stack rolls itself and its parent back', async (t) => {
  await f.s3.send(
    new PutObjectCommand({
      Bucket: 'cfn-templates',
      Key: 'bad.json',
      Body: body({
        Resources: {
          Ok: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-nested-ok'}},
          Bad: {Type: 'AWS::S3::Bucket', DependsOn: 'Ok', Properties: {BucketName: 'Bad Name'}},
        },
      }),
    }),
  )
  const parent = {
    Resources: {
      Sibling: {Type: 'AWS::S3::Bucket', Properties: {BucketName: 'cfn-nested-sibling'}},
      Child: {
        Type: 'AWS::CloudFormation::Stack',
        DependsOn: 'Sibling',
        Properties: {TemplateURL: 'https://s3.amazonaws.com/cfn-templates/bad.json'},
      },
    },
  }
  await f.cfn.send(new CreateStackCommand({StackName: 'parent-fails', TemplateBody: body(parent)}))
  const stack = await settled(f.cfn, 'parent-fails')
  t.is(stack.StackStatus, 'ROLLBACK_COMPLETE')
  const events = await eventsOf(f.cfn, 'parent-fails')
  t.regex(
    events.find((e) => e.LogicalResourceId === 'Child' && e.ResourceStatus === 'CREATE_FAILED')!.ResourceStatusReason!,
    /^Embedded stack arn:aws:cloudformation:.* was not successfully created: The following resource\(s\) failed to create: \[Bad\]/,
  )
  const children = (await f.cfn.send(new ListStacksCommand({}))).StackSummaries!.filter((s) => s.ParentId === stack.StackId)
  t.is(children.length, 1)
  t.is(children[0]!.StackStatus, 'DELETE_COMPLETE')
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-nested-ok'})))).status, 404)
  t.is((await failure(f.s3.send(new HeadBucketCommand({Bucket: 'cfn-nested-sibling'})))).status, 404)
})
