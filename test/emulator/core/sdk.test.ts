/**
 * The core against the real SDK v3 clients: routing by credential scope, SigV4
 * verification, and each protocol's error shape mapped to the SDK's exception classes.
 */

import {Readable} from 'node:stream'
import {GetUserCommand, IAMClient, NoSuchEntityException} from '@aws-sdk/client-iam'
import {ResourceNotFoundException as FunctionNotFound, GetFunctionCommand, LambdaClient, ListFunctionsCommand} from '@aws-sdk/client-lambda'
import {GetObjectCommand, ListBucketsCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException} from '@aws-sdk/client-s3'
import {GetSecretValueCommand, ResourceNotFoundException as SecretNotFound, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {credentials, startTestServer, unknownKey, wrongSecret} from './fixtures.js'

type Creds = typeof credentials
const server = await startTestServer()
test.after.always(() => server.close())

const common = (creds: Creds, extra: Record<string, unknown> = {}) => ({
  endpoint: server.endpoint,
  region: 'us-east-1',
  credentials: creds,
  maxAttempts: 1,
  ...extra,
})
const s3 = (creds: Creds = credentials, extra = {}) => new S3Client({...common(creds, extra), forcePathStyle: true})
const sts = (creds: Creds = credentials, extra = {}) => new STSClient(common(creds, extra))

async function errorOf(promise: Promise<unknown>): Promise<Error & {$metadata?: {httpStatusCode?: number}; Code?: string}> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to fail')
}

test('a good header signature is accepted (Query: STS GetCallerIdentity answers as root)', async (t) => {
  const identity = await sts().send(new GetCallerIdentityCommand({}))
  t.is(identity.Account, '000000000000')
  t.is(identity.Arn, 'arn:aws:iam::000000000000:root')
})

test('a good header signature is accepted (REST-XML: S3 PUT then GET of a key needing encoding)', async (t) => {
  const key = 'dir/a key+with=odd&chars~ü.txt'
  const put = await s3().send(new PutObjectCommand({Bucket: 'b', Key: key, Body: Buffer.from('hello')}))
  t.is(put.ETag, '"5d41402abc4b2a76b9719d911017c592"')
  const got = await s3().send(new GetObjectCommand({Bucket: 'b', Key: key}))
  t.is(await got.Body!.transformToString(), 'hello')
  const list = await s3().send(new ListBucketsCommand({}))
  t.deepEqual(
    list.Buckets?.map((b) => b.Name),
    ['b'],
  )
})

test('a wrong secret is SignatureDoesNotMatch (403) in each protocol', async (t) => {
  const s3Error = await errorOf(s3(wrongSecret).send(new ListBucketsCommand({})))
  t.is(s3Error.name, 'SignatureDoesNotMatch')
  t.is(s3Error.$metadata?.httpStatusCode, 403)
  t.true(s3Error instanceof S3ServiceException)
  const stsError = await errorOf(sts(wrongSecret).send(new GetCallerIdentityCommand({})))
  t.is(stsError.name, 'SignatureDoesNotMatch')
  t.is(stsError.$metadata?.httpStatusCode, 403)
  const jsonError = await errorOf(new SecretsManagerClient(common(wrongSecret)).send(new GetSecretValueCommand({SecretId: 'known'})))
  t.is(jsonError.name, 'InvalidSignatureException')
  const restJsonError = await errorOf(new LambdaClient(common(wrongSecret)).send(new ListFunctionsCommand({})))
  t.is(restJsonError.name, 'InvalidSignatureException')
  t.is(restJsonError.$metadata?.httpStatusCode, 403)
})

test('an unknown access key is InvalidAccessKeyId (S3), InvalidClientTokenId (Query), UnrecognizedClientException (JSON)', async (t) => {
  t.is((await errorOf(s3(unknownKey).send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId')
  t.is((await errorOf(sts(unknownKey).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId')
  const jsonError = await errorOf(new SecretsManagerClient(common(unknownKey)).send(new GetSecretValueCommand({SecretId: 'known'})))
  t.is(jsonError.name, 'UnrecognizedClientException')
  t.is((await errorOf(new LambdaClient(common(unknownKey)).send(new ListFunctionsCommand({})))).name, 'UnrecognizedClientException')
})

test('a skewed clock is refused: RequestTimeTooSkewed (S3), SignatureDoesNotMatch (Query)', async (t) => {
  const skew = {systemClockOffset: -20 * 60 * 1000}
  const s3Error = await errorOf(s3(credentials, skew).send(new ListBucketsCommand({})))
  t.is(s3Error.name, 'RequestTimeTooSkewed')
  t.is(s3Error.$metadata?.httpStatusCode, 403)
  const stsError = await errorOf(sts(credentials, skew).send(new GetCallerIdentityCommand({})))
  t.is(stsError.name, 'SignatureDoesNotMatch')
  t.regex(stsError.message, /Signature expired/)
  // Within 15 minutes is fine.
  await t.notThrowsAsync(sts(credentials, {systemClockOffset: -10 * 60 * 1000}).send(new GetCallerIdentityCommand({})))
})

test('service errors reach the SDK as its modelled exception classes', async (t) => {
  const s3Error = await errorOf(s3().send(new GetObjectCommand({Bucket: 'b', Key: 'missing'})))
  t.true(s3Error instanceof NoSuchKey)
  t.is(s3Error.$metadata?.httpStatusCode, 404)
  const iamError = await errorOf(new IAMClient(common(credentials)).send(new GetUserCommand({UserName: 'nobody'})))
  t.true(iamError instanceof NoSuchEntityException)
  t.regex(iamError.message, /nobody cannot be found/)
  const secretError = await errorOf(new SecretsManagerClient(common(credentials)).send(new GetSecretValueCommand({SecretId: 'other'})))
  t.true(secretError instanceof SecretNotFound)
  const secret = await new SecretsManagerClient(common(credentials)).send(new GetSecretValueCommand({SecretId: 'known'}))
  t.is(secret.SecretString, 's3cr3t')
  const lambdaError = await errorOf(new LambdaClient(common(credentials)).send(new GetFunctionCommand({FunctionName: 'nope'})))
  t.true(lambdaError instanceof FunctionNotFound)
  t.is(lambdaError.$metadata?.httpStatusCode, 404)
  t.is(lambdaError.message, 'Function not found: nope')
  const functions = await new LambdaClient(common(credentials)).send(new ListFunctionsCommand({}))
  t.deepEqual(functions.Functions, [])
})

test('the SDK streaming upload (STREAMING-UNSIGNED-PAYLOAD-TRAILER) is decoded and its CRC32 trailer parsed', async (t) => {
  const parts = [Buffer.from('hello '), Buffer.alloc(70_000, 'x'), Buffer.from(' world')]
  const total = parts.reduce((n, p) => n + p.length, 0)
  await s3().send(
    new PutObjectCommand({Bucket: 'b', Key: 'streamed', Body: Readable.from(parts), ContentLength: total, ChecksumAlgorithm: 'CRC32'}),
  )
  const stored = server.objects.get('/b/streamed')!
  t.deepEqual(stored.body, Buffer.concat(parts))
  t.is(stored.contentLength, total)
  const {Crc32} = await import('@aws-crypto/crc32')
  const crc = new Crc32().update(Buffer.concat(parts)).digest()
  const expected = Buffer.alloc(4)
  expected.writeUInt32BE(crc)
  t.is(stored.trailers['x-amz-checksum-crc32'], expected.toString('base64'))
})

test('every answer carries a request id (x-amzn-RequestId, x-amz-request-id; x-amz-id-2 for S3)', async (t) => {
  const put = await s3().send(new PutObjectCommand({Bucket: 'b', Key: 'ids', Body: 'x'}))
  t.regex(put.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/)
  t.truthy(put.$metadata.extendedRequestId)
  const identity = await sts().send(new GetCallerIdentityCommand({}))
  t.regex(identity.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/)
})
