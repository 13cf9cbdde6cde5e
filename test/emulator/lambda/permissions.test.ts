/**
 * Resource policies: AddPermission writes statements in AWS's shape, GetPolicy
 * returns them, RemovePermission takes them away; the internal API other
 * services invoke through (LambdaInternal) checks the service principal,
 * SourceArn and SourceAccount, records refusals in the event record, and IAM
 * users need lambda:InvokeFunction in their identity policies.
 */
import * as iam from '@aws-sdk/client-iam'
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import type {LambdaInternal} from '../../../src/emulator/internal.js'
import {credentials, decode, type Emulator, emulator, lambdaRole, region, rejects, zipOf} from './helpers.js'

let emu: Emulator
let internal: LambdaInternal
const events: EmulatorEvent[] = []
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:target'

test.before(async () => {
  emu = await emulator()
  emu.server.events.subscribe((event) => events.push(event))
  const role = await lambdaRole(emu.iam, 'perm-role')
  await emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: 'target',
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await zipOf({'index.mjs': 'export const handler = async (e) => ({got: e})\n'})},
    }),
  )
  const service = await emu.server.getService('lambda')
  internal = service!.internal as LambdaInternal
})
test.after.always(() => emu?.close())

test.serial('AddPermission answers the statement AWS writes; GetPolicy the document; duplicates and unknown ids refused', async (t) => {
  const added = await emu.lambda.send(
    new lambda.AddPermissionCommand({
      FunctionName: 'target',
      StatementId: 's3-invoke',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: 'arn:aws:s3:::uploads',
      SourceAccount: '000000000000',
    }),
  )
  t.deepEqual(JSON.parse(added.Statement!), {
    Sid: 's3-invoke',
    Effect: 'Allow',
    Principal: {Service: 's3.amazonaws.com'},
    Action: 'lambda:InvokeFunction',
    Resource: ARN,
    Condition: {StringEquals: {'AWS:SourceAccount': '000000000000'}, ArnLike: {'AWS:SourceArn': 'arn:aws:s3:::uploads'}},
  })
  await emu.lambda.send(
    new lambda.AddPermissionCommand({
      FunctionName: 'target',
      StatementId: 'account',
      Action: 'lambda:InvokeFunction',
      Principal: '111122223333',
    }),
  )
  const policy = await emu.lambda.send(new lambda.GetPolicyCommand({FunctionName: 'target'}))
  const document = JSON.parse(policy.Policy!)
  t.is(document.Version, '2012-10-17')
  t.is(document.Id, 'default')
  t.deepEqual(
    document.Statement.map((s: {Sid: string}) => s.Sid),
    ['s3-invoke', 'account'],
  )
  t.deepEqual(document.Statement[1].Principal, {AWS: 'arn:aws:iam::111122223333:root'})
  t.truthy(policy.RevisionId)
  await rejects(
    t,
    emu.lambda.send(
      new lambda.AddPermissionCommand({
        FunctionName: 'target',
        StatementId: 'account',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
      }),
    ),
    'ResourceConflictException',
    409,
    /The statement id \(account\) provided already exists/,
  )
  await emu.lambda.send(new lambda.RemovePermissionCommand({FunctionName: 'target', StatementId: 'account'}))
  await rejects(
    t,
    emu.lambda.send(new lambda.RemovePermissionCommand({FunctionName: 'target', StatementId: 'account'})),
    'ResourceNotFoundException',
    404,
    /Statement account is not found in resource policy/,
  )
  await rejects(
    t,
    emu.lambda.send(
      new lambda.AddPermissionCommand({
        FunctionName: 'nope',
        StatementId: 'x',
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
      }),
    ),
    'ResourceNotFoundException',
    404,
  )
})

test.serial('invokeAsService runs the function for an allowed source and refuses others, saying why in the event record', async (t) => {
  t.deepEqual(internal.checkServicePermission('target', 's3.amazonaws.com', 'arn:aws:s3:::uploads', '000000000000'), {allowed: true})
  t.is(internal.functionArn('target'), ARN)
  t.is(internal.functionArn(ARN), ARN)
  t.is(internal.functionArn('ghost'), undefined)
  const answered = await internal.invokeAsService({
    functionName: ARN,
    payload: {Records: [1]},
    principal: 's3.amazonaws.com',
    sourceArn: 'arn:aws:s3:::uploads',
    sourceAccount: '000000000000',
    invocationType: 'RequestResponse',
    correlation: {bucket: 'uploads', key: 'a.txt'},
  })
  t.is(answered.statusCode, 200)
  t.deepEqual(answered.payload, {got: {Records: [1]}})
  t.is(answered.functionError, undefined)
  const ok = events.find((e) => e.kind === 'lambda.invoke' && e.outcome === 'ok' && e.correlation?.key === 'a.txt')
  t.truthy(ok)
  t.is(ok?.detail?.principal, 's3.amazonaws.com')

  const other = internal.checkServicePermission('target', 's3.amazonaws.com', 'arn:aws:s3:::elsewhere')
  t.false(other.allowed)
  await rejects(
    t,
    internal.invokeAsService({
      functionName: 'target',
      payload: {},
      principal: 's3.amazonaws.com',
      sourceArn: 'arn:aws:s3:::elsewhere',
      invocationType: 'Event',
    }),
    'AwsError',
  )
  const denied = events.find((e) => e.kind === 'lambda.invoke' && e.outcome === 'denied')
  t.regex(denied?.reason ?? '', /allows only source arn:aws:s3:::uploads, not arn:aws:s3:::elsewhere/)
  const events_ = internal.checkServicePermission('target', 'events.amazonaws.com', 'arn:aws:events:us-east-1:000000000000:rule/r')
  t.false(events_.allowed)
  t.regex((events_ as {reason: string}).reason, /no statement .* allows events\.amazonaws\.com/)
  t.deepEqual(internal.checkServicePermission('ghost', 's3.amazonaws.com'), {allowed: false, reason: 'the function ghost does not exist'})
  const missing = await t.throwsAsync(
    internal.invokeAsService({functionName: 'ghost', payload: {}, principal: 's3.amazonaws.com', invocationType: 'Event'}),
  )
  t.is((missing as {code?: string}).code, 'ResourceNotFoundException')
})

test.serial('an Event invoke from a service answers 202 and runs; an ArnLike wildcard SourceArn matches', async (t) => {
  await emu.lambda.send(
    new lambda.AddPermissionCommand({
      FunctionName: 'target',
      StatementId: 'rules',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: 'arn:aws:events:us-east-1:000000000000:rule/*',
    }),
  )
  const queued = await internal.invokeAsService({
    functionName: 'target',
    payload: {detail: 1},
    principal: 'events.amazonaws.com',
    sourceArn: 'arn:aws:events:us-east-1:000000000000:rule/nightly',
    invocationType: 'Event',
    correlation: {rule: 'nightly'},
  })
  t.is(queued.statusCode, 202)
  const deadline = Date.now() + 15_000
  while (
    !events.some((e) => e.kind === 'lambda.invoke' && e.correlation?.rule === 'nightly' && e.outcome === 'ok') &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 50))
  t.true(events.some((e) => e.kind === 'lambda.invoke' && e.correlation?.rule === 'nightly' && e.outcome === 'ok'))
})

test.serial('an IAM user needs lambda:InvokeFunction in its policies to invoke', async (t) => {
  await emu.iam.send(new iam.CreateUserCommand({UserName: 'nobody'}))
  const key = await emu.iam.send(new iam.CreateAccessKeyCommand({UserName: 'nobody'}))
  const client = new lambda.LambdaClient({
    endpoint: emu.server.endpoint,
    region,
    credentials: {accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey!},
  })
  await rejects(t, client.send(new lambda.InvokeCommand({FunctionName: 'target'})), 'AccessDeniedException', 403, /lambda:InvokeFunction/)
  await emu.iam.send(
    new iam.PutUserPolicyCommand({
      UserName: 'nobody',
      PolicyName: 'invoke',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ARN}],
      }),
    }),
  )
  t.deepEqual(decode((await client.send(new lambda.InvokeCommand({FunctionName: 'target', Payload: '{"a":1}'}))).Payload), {got: {a: 1}})
  t.truthy(credentials)
})
