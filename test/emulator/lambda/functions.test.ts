/**
 * Lambda functions through the real SDK v3 client: CreateFunction from a zip or
 * from the emulated S3, roles Lambda cannot assume and runtimes AWS no longer
 * accepts refused as AWS refuses them, Get/List/Delete, the configuration and
 * code updates with the function-active-v2 / function-updated-v2 waiters, tags.
 */

import {stat} from 'node:fs/promises'
import {join} from 'node:path'
import * as iam from '@aws-sdk/client-iam'
import * as lambda from '@aws-sdk/client-lambda'
import * as s3 from '@aws-sdk/client-s3'
import test from 'ava'
import {decode, type Emulator, emulator, lambdaRole, rejects, TRUST_EC2, zipOf} from './helpers.js'

let emu: Emulator
let role: string
const code = (answer: string) => zipOf({'index.mjs': `export const handler = async () => (${answer})\n`})

test.before(async () => {
  emu = await emulator()
  role = await lambdaRole(emu.iam, 'fn-role')
})
test.after.always(() => emu?.close())

const create = async (name: string, extra: Partial<lambda.CreateFunctionCommandInput> = {}) =>
  emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await code('"v1"')},
      ...extra,
    }),
  )

test('CreateFunction answers the configuration AWS does; the function-active-v2 waiter sees it Active', async (t) => {
  const made = await create('make-one', {Description: 'first', MemorySize: 256, Timeout: 10, Environment: {Variables: {A: '1'}}})
  t.is(made.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:make-one')
  t.is(made.State, 'Pending')
  t.is(made.StateReasonCode, 'Creating')
  t.is(made.Version, '$LATEST')
  t.is(made.PackageType, 'Zip')
  t.deepEqual(made.Architectures, ['x86_64'])
  t.deepEqual([made.MemorySize, made.Timeout, made.Description], [256, 10, 'first'])
  t.deepEqual(made.Environment?.Variables, {A: '1'})
  t.regex(made.CodeSha256 ?? '', /^[A-Za-z0-9+/]{43}=$/)
  t.regex(made.LastModified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
  t.is(made.LoggingConfig?.LogGroup, '/aws/lambda/make-one')
  const waited = await lambda.waitUntilFunctionActiveV2({client: emu.lambda, maxWaitTime: 10}, {FunctionName: 'make-one'})
  t.is(String(waited.state), 'SUCCESS')
  const got = await emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: 'make-one'}))
  t.is(got.Configuration?.State, 'Active')
  t.is(got.Configuration?.LastUpdateStatus, 'Successful')
  t.is(got.Code?.RepositoryType, 'S3')
  await rejects(t, create('make-one'), 'ResourceConflictException', 409, /Function already exist: make-one/)
  // Environment variables may hold secrets: the state file is the owner's alone.
  t.is((await stat(join(emu.stateDir, 'lambda', 'functions.json'))).mode & 0o777, 0o600)
})

test('a role that does not exist or does not trust lambda.amazonaws.com is refused as AWS refuses it', async (t) => {
  const message = /^The role defined for the function cannot be assumed by Lambda\.$/
  await rejects(t, create('no-role', {Role: 'arn:aws:iam::000000000000:role/missing'}), 'InvalidParameterValueException', 400, message)
  const ec2 = await emu.iam.send(new iam.CreateRoleCommand({RoleName: 'ec2-only', AssumeRolePolicyDocument: TRUST_EC2}))
  await rejects(t, create('ec2-role', {Role: ec2.Role!.Arn!}), 'InvalidParameterValueException', 400, message)
  await rejects(t, create('bad-role', {Role: 'not-an-arn'}), 'ValidationException', 400)
})

test('runtimes: nodejs20.x refused for creation since 2026-06-01, unknown runtimes fail validation, nodejs24.x accepted', async (t) => {
  await rejects(
    t,
    create('old-node', {Runtime: 'nodejs20.x'}),
    'InvalidParameterValueException',
    400,
    /The runtime parameter of nodejs20\.x is no longer supported for creating or updating AWS Lambda functions/,
  )
  await rejects(t, create('cobol', {Runtime: 'cobol85' as lambda.Runtime}), 'ValidationException', 400)
  await rejects(t, create('java', {Runtime: 'java21'}), 'InvalidParameterValueException', 400, /Node\.js and Python functions only/)
  const made = await create('new-node', {Runtime: 'nodejs24.x'})
  t.is(made.Runtime, 'nodejs24.x')
})

test('reserved environment variables, bad sizes and a file that is not a zip are refused', async (t) => {
  await rejects(
    t,
    create('reserved', {Environment: {Variables: {AWS_REGION: 'x'}}}),
    'InvalidParameterValueException',
    400,
    /reserved keys.*AWS_REGION/,
  )
  await rejects(t, create('tiny', {MemorySize: 64}), 'ValidationException', 400, /memorySize/)
  await rejects(t, create('forever', {Timeout: 901}), 'ValidationException', 400, /timeout/)
  await rejects(t, create('not-zip', {Code: {ZipFile: Buffer.from('hello')}}), 'InvalidParameterValueException', 400, /Could not unzip/)
})

test('CreateFunction from S3Bucket/S3Key of the emulated S3; a missing key refused naming S3 error', async (t) => {
  const client = new s3.S3Client({
    endpoint: emu.server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    forcePathStyle: true,
  })
  await client.send(new s3.CreateBucketCommand({Bucket: 'code-bucket'}))
  await client.send(new s3.PutObjectCommand({Bucket: 'code-bucket', Key: 'fn.zip', Body: await code('"from s3"')}))
  const made = await create('from-s3', {Code: {S3Bucket: 'code-bucket', S3Key: 'fn.zip'}})
  t.is(made.FunctionName, 'from-s3')
  const answer = await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'from-s3'}))
  t.is(decode(answer.Payload), 'from s3')
  await rejects(
    t,
    create('from-s3-missing', {Code: {S3Bucket: 'code-bucket', S3Key: 'nope.zip'}}),
    'InvalidParameterValueException',
    400,
    /NoSuchKey/,
  )
})

test('Get, GetFunctionConfiguration and ListFunctions with pagination; names, ARNs and partial ARNs all resolve', async (t) => {
  for (const name of ['list-a', 'list-b', 'list-c']) await create(name)
  for (const id of ['list-b', 'arn:aws:lambda:us-east-1:000000000000:function:list-b', '000000000000:function:list-b', 'list-b:$LATEST']) {
    const config = await emu.lambda.send(new lambda.GetFunctionConfigurationCommand({FunctionName: id}))
    t.is(config.FunctionName, 'list-b')
  }
  const names: string[] = []
  let marker: string | undefined
  let pages = 0
  do {
    const page = await emu.lambda.send(new lambda.ListFunctionsCommand({MaxItems: 2, Marker: marker}))
    names.push(...(page.Functions ?? []).map((f) => f.FunctionName!))
    marker = page.NextMarker
    pages++
  } while (marker)
  t.true(pages >= 2)
  t.deepEqual(
    names.filter((n) => n.startsWith('list-')),
    ['list-a', 'list-b', 'list-c'],
  )
  await rejects(
    t,
    emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: 'nope'})),
    'ResourceNotFoundException',
    404,
    /Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/,
  )
  await rejects(
    t,
    emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: 'list-a', Qualifier: '7'})),
    'ResourceNotFoundException',
    404,
  )
})

test('UpdateFunctionCode and UpdateFunctionConfiguration change what answers; function-updated-v2 waits them out', async (t) => {
  await create('updated')
  const before = decode((await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'updated'}))).Payload)
  t.is(before, 'v1')
  const updated = await emu.lambda.send(
    new lambda.UpdateFunctionCodeCommand({
      FunctionName: 'updated',
      ZipFile: await zipOf({'index.mjs': 'export const handler = async () => process.env.COLOR ?? "v2"\n'}),
    }),
  )
  t.is(updated.LastUpdateStatus, 'InProgress')
  t.is(String((await lambda.waitUntilFunctionUpdatedV2({client: emu.lambda, maxWaitTime: 10}, {FunctionName: 'updated'})).state), 'SUCCESS')
  t.is(decode((await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'updated'}))).Payload), 'v2')
  const configured = await emu.lambda.send(
    new lambda.UpdateFunctionConfigurationCommand({FunctionName: 'updated', Environment: {Variables: {COLOR: 'blue'}}, Timeout: 7}),
  )
  t.is(configured.Timeout, 7)
  await lambda.waitUntilFunctionUpdatedV2({client: emu.lambda, maxWaitTime: 10}, {FunctionName: 'updated'})
  t.is(decode((await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'updated'}))).Payload), 'blue')
  await rejects(
    t,
    emu.lambda.send(new lambda.UpdateFunctionConfigurationCommand({FunctionName: 'updated', Timeout: 5, RevisionId: 'stale'})),
    'PreconditionFailedException',
    412,
  )
  await rejects(
    t,
    emu.lambda.send(new lambda.UpdateFunctionConfigurationCommand({FunctionName: 'updated', Runtime: 'nodejs20.x'})),
    'InvalidParameterValueException',
    400,
  )
})

test('DeleteFunction removes it (204); tags set at creation, added and removed', async (t) => {
  const made = await create('tagged', {Tags: {team: 'neuro'}})
  await emu.lambda.send(new lambda.TagResourceCommand({Resource: made.FunctionArn, Tags: {stage: 'dev'}}))
  t.deepEqual((await emu.lambda.send(new lambda.ListTagsCommand({Resource: made.FunctionArn}))).Tags, {team: 'neuro', stage: 'dev'})
  await emu.lambda.send(new lambda.UntagResourceCommand({Resource: made.FunctionArn, TagKeys: ['team']}))
  t.deepEqual((await emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: 'tagged'}))).Tags, {stage: 'dev'})
  const deleted = await emu.lambda.send(new lambda.DeleteFunctionCommand({FunctionName: 'tagged'}))
  t.is(deleted.$metadata.httpStatusCode, 204)
  await rejects(t, emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: 'tagged'})), 'ResourceNotFoundException', 404)
  await rejects(t, emu.lambda.send(new lambda.DeleteFunctionCommand({FunctionName: 'tagged'})), 'ResourceNotFoundException', 404)
})

test('GetAccountSettings counts the functions; an operation not served is refused by name', async (t) => {
  await create('counted')
  const settings = await emu.lambda.send(new lambda.GetAccountSettingsCommand({}))
  t.true((settings.AccountUsage?.FunctionCount ?? 0) >= 1)
  t.is(settings.AccountLimit?.ConcurrentExecutions, 1000)
  await rejects(t, emu.lambda.send(new lambda.PublishVersionCommand({FunctionName: 'counted'})), 'NotImplemented', 501, /PublishVersion/)
  await rejects(t, emu.lambda.send(new lambda.ListLayersCommand({})), 'NotImplemented', 501, /ListLayers/)
})
