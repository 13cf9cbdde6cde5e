/**
 * The Custom::BucketFolders handler in-process against moto_server (S3 with
 * versioning and multipart uploads) and a local HTTP server standing for
 * CloudFormation's presigned response URL: Create makes the folders, Update
 * changes nothing, Delete empties every version, delete marker and upload; the
 * answer always arrives, on error and before the function's timeout too.
 */
import {createServer, type Server} from 'node:http'
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {type Answer, type CustomResourceRequest, handler} from '../../lambda_repo/folders/index.js'
import {generateEvent} from '../../src/jobs/events.js'
import {hasMoto, type RunningMoto, startMoto} from '../helpers/moto.js'

let moto: RunningMoto | undefined
let s3: S3Client
let server: Server
let responseUrl = ''
const answers: {method: string; contentType: string | undefined; body: Answer}[] = []

test.before(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      answers.push({method: req.method!, contentType: req.headers['content-type'], body: JSON.parse(body)})
      res.end()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  responseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/cfn-answer?X-Amz-Signature=abc`
  if (!hasMoto()) return
  moto = await startMoto()
  process.env.AWS_ENDPOINT_URL = moto.endpoint
  process.env.AWS_ACCESS_KEY_ID = 'test'
  process.env.AWS_SECRET_ACCESS_KEY = 'test'
  process.env.AWS_REGION = 'us-east-1'
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
})
test.after.always(async () => {
  await moto?.stop()
  server?.close()
})
const withMoto = hasMoto() ? test.serial : test.skip

async function request(type: 'cfn-create' | 'cfn-update' | 'cfn-delete', bucket: string) {
  return (await generateEvent(type, {bucket, groups: ['labA', 'labB'], responseUrl})) as unknown as CustomResourceRequest
}

withMoto('Create makes every group folder and the log folder, and answers SUCCESS by PUT with no content type', async (t) => {
  const bucket = 'folders-create'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  const event = await request('cfn-create', bucket)
  const out = await handler(event, {getRemainingTimeInMillis: () => 60_000})
  t.is(out.Status, 'SUCCESS', out.Reason)
  const keys = ((await s3.send(new ListObjectsV2Command({Bucket: bucket}))).Contents ?? []).map((o) => o.Key).sort()
  t.deepEqual(keys, [
    'labA/configs/',
    'labA/inputs/',
    'labA/logs/',
    'labA/results/',
    'labA/submissions/',
    'labB/configs/',
    'labB/inputs/',
    'labB/logs/',
    'labB/results/',
    'labB/submissions/',
    'logs/',
  ])
  const answer = answers.at(-1)!
  t.is(answer.method, 'PUT')
  t.falsy(answer.contentType)
  t.like(answer.body, {
    Status: 'SUCCESS',
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: 'BucketFolders',
    PhysicalResourceId: `${bucket}-bucket-folders`,
  })
})

withMoto('Update changes nothing and keeps the physical id', async (t) => {
  const bucket = 'folders-update'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'labA/inputs/data.bin', Body: 'x'}))
  const out = await handler(await request('cfn-update', bucket), {getRemainingTimeInMillis: () => 60_000})
  t.like(out, {Status: 'SUCCESS', PhysicalResourceId: `${bucket}-bucket-folders`})
  const keys = ((await s3.send(new ListObjectsV2Command({Bucket: bucket}))).Contents ?? []).map((o) => o.Key)
  t.deepEqual(keys, ['labA/inputs/data.bin'])
})

withMoto('Delete empties a versioned bucket: every version, delete marker and multipart upload', async (t) => {
  const bucket = 'folders-delete'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  await s3.send(new PutBucketVersioningCommand({Bucket: bucket, VersioningConfiguration: {Status: 'Enabled'}}))
  for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'labA/inputs/v.bin', Body: `v${i}`}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'labA/results/gone.txt', Body: 'g'}))
  await s3.send(new DeleteObjectCommand({Bucket: bucket, Key: 'labA/results/gone.txt'}))
  await s3.send(new CreateMultipartUploadCommand({Bucket: bucket, Key: 'labA/inputs/big.bin'}))
  const out = await handler(await request('cfn-delete', bucket), {getRemainingTimeInMillis: () => 60_000})
  t.is(out.Status, 'SUCCESS', out.Reason)
  t.regex(out.Reason, /emptied folders-delete: 5 object version\(s\) and delete marker\(s\), 1 upload\(s\) aborted/)
  const versions = await s3.send(new ListObjectVersionsCommand({Bucket: bucket}))
  t.is((versions.Versions ?? []).length + (versions.DeleteMarkers ?? []).length, 0)
  t.is((await s3.send(new ListMultipartUploadsCommand({Bucket: bucket}))).Uploads?.length ?? 0, 0)
})

withMoto('Delete of a bucket that is already gone succeeds; an error answers FAILED with the reason', async (t) => {
  const gone = await handler(await request('cfn-delete', 'folders-never-made'), {getRemainingTimeInMillis: () => 60_000})
  t.is(gone.Status, 'SUCCESS')
  const failed = await handler(await request('cfn-create', 'folders-no-bucket'), {getRemainingTimeInMillis: () => 60_000})
  t.is(failed.Status, 'FAILED')
  t.regex(failed.Reason, /Create failed: NoSuchBucket/)
  t.is(answers.at(-1)!.body.Status, 'FAILED')
})

test.serial('before its own timeout, the handler answers FAILED (S3 unreachable: an endpoint that never answers)', async (t) => {
  const silent = createServer(() => {})
  await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done))
  const address = silent.address()
  const saved = process.env.AWS_ENDPOINT_URL
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  try {
    const started = Date.now()
    const out = await handler(await request('cfn-delete', 'folders-slow'), {
      getRemainingTimeInMillis: () => 6_500,
      logStreamName: '2026/12/01/[$LATEST]abc',
    })
    t.is(out.Status, 'FAILED')
    t.regex(out.Reason, /Delete did not finish before the function's timeout; see its log 2026\/12\/01\/\[\$LATEST\]abc/)
    t.true(Date.now() - started < 4_000, 'answered with the margin kept')
    t.is(answers.at(-1)!.body.Status, 'FAILED')
  } finally {
    process.env.AWS_ENDPOINT_URL = saved
    silent.closeAllConnections()
    silent.close()
  }
})
