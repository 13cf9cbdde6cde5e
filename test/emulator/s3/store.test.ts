import {mkdtemp, readdir, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import {getSignedUrl} from '@aws-sdk/s3-request-presigner'
import test from 'ava'
import {failure, filesUnder, startS3} from './helpers.js'

test('everything survives a restart; crash debris is removed on open', async (t) => {
  const first = await startS3()
  await first.s3.send(new CreateBucketCommand({Bucket: 'durable'}))
  await first.s3.send(
    new PutObjectCommand({Bucket: 'durable', Key: 'a/b.txt', Body: 'kept', Metadata: {x: 'y'}, ChecksumAlgorithm: 'CRC32C'}),
  )
  await first.s3.send(new PutBucketPolicyCommand({Bucket: 'durable', Policy: '{"Statement":[]}'}))
  const upload = await first.s3.send(new CreateMultipartUploadCommand({Bucket: 'durable', Key: 'pending'}))
  await first.s3.send(new UploadPartCommand({Bucket: 'durable', Key: 'pending', UploadId: upload.UploadId, PartNumber: 1, Body: 'part'}))
  await first.server.close()
  // What a kill leaves: a temp file, a data file no record points to.
  const objects = join(first.stateDir, 's3', 'buckets', 'durable', 'objects')
  await writeFile(join(objects, '.tmp-half-written'), 'junk')
  await writeFile(join(objects, 'deadbeefdeadbeefdeadbeef.data'), 'orphan')
  const second = await startS3(first.stateDir)
  try {
    const got = await second.s3.send(new GetObjectCommand({Bucket: 'durable', Key: 'a/b.txt', ChecksumMode: 'ENABLED'}))
    t.is(await got.Body?.transformToString(), 'kept')
    t.deepEqual(got.Metadata, {x: 'y'})
    t.truthy(got.ChecksumCRC32C)
    t.is((await second.s3.send(new GetBucketPolicyCommand({Bucket: 'durable'}))).Policy, '{"Statement":[]}')
    const uploads = await second.s3.send(new ListMultipartUploadsCommand({Bucket: 'durable'}))
    t.deepEqual(
      uploads.Uploads?.map((item) => item.UploadId),
      [upload.UploadId],
    )
    const names = await readdir(objects)
    t.false(names.includes('.tmp-half-written'))
    t.false(names.includes('deadbeefdeadbeefdeadbeef.data'))
    t.is(names.filter((name) => name.endsWith('.data')).length, 1)
  } finally {
    await second.server.close()
  }
})

test('path traversal in keys, bucket names and raw paths never touches files outside the state folder', async (t) => {
  const outside = await mkdtemp(join(tmpdir(), 'ncap-s3-outside-'))
  const fx = await startS3(join(outside, 'state'))
  try {
    await fx.s3.send(new CreateBucketCommand({Bucket: 'trav'}))
    const keys = [
      '../escape',
      '../../escape',
      '/etc/passwd',
      `${outside}/abs`,
      '..',
      '...',
      '....',
      '%2e%2e%2fescape',
      'a/../../../../escape',
      '..\\..\\escape',
    ]
    for (const key of keys) await fx.s3.send(new PutObjectCommand({Bucket: 'trav', Key: key, Body: `value of ${key}`}))
    for (const key of keys)
      t.is(await (await fx.s3.send(new GetObjectCommand({Bucket: 'trav', Key: key}))).Body?.transformToString(), `value of ${key}`)
    t.is((await fx.s3.send(new ListObjectsV2Command({Bucket: 'trav'}))).KeyCount, keys.length)
    for (const bucket of ['..', '.', 'trav/../..', '%2e%2e']) {
      const error = await failure(fx.s3.send(new PutObjectCommand({Bucket: bucket, Key: 'x', Body: 'x'})))
      t.not(error.status, 200, bucket)
    }
    // Raw, hand-made paths (no SDK normalisation): a presigned URL with dot segments in it.
    const url = await getSignedUrl(fx.s3, new PutObjectCommand({Bucket: 'trav', Key: '../../raw'}), {expiresIn: 60})
    const raw = await fetch(url, {method: 'PUT', body: 'raw body'})
    t.true(raw.status === 200 || raw.status === 403, String(raw.status))
    const files = await filesUnder(outside)
    t.true(
      files.every((path) => path.startsWith('state/')),
      files.join('\n'),
    )
    t.true(
      files.every((path) => /^state\/(s3\/|iam\/|events\.jsonl$)/.test(path)),
      files.join('\n'),
    )
  } finally {
    await fx.server.close()
  }
})

test('presigned GET and PUT URLs work with fetch; PUT without a content type gets binary/octet-stream', async (t) => {
  const fx = await startS3()
  try {
    await fx.s3.send(new CreateBucketCommand({Bucket: 'signed'}))
    const putUrl = await getSignedUrl(fx.s3, new PutObjectCommand({Bucket: 'signed', Key: 'up/file.txt'}), {expiresIn: 300})
    const put = await fetch(putUrl, {method: 'PUT', body: new TextEncoder().encode('via presigned put')})
    t.is(put.status, 200)
    t.truthy(put.headers.get('etag'))
    const getUrl = await getSignedUrl(
      fx.s3,
      new GetObjectCommand({Bucket: 'signed', Key: 'up/file.txt', ResponseContentDisposition: 'attachment; filename="x.txt"'}),
      {expiresIn: 300},
    )
    const got = await fetch(getUrl)
    t.is(got.status, 200)
    t.is(await got.text(), 'via presigned put')
    t.is(got.headers.get('content-disposition'), 'attachment; filename="x.txt"')
    t.is(got.headers.get('content-type'), 'binary/octet-stream')
    const missing = await fetch(await getSignedUrl(fx.s3, new GetObjectCommand({Bucket: 'signed', Key: 'nothing'}), {expiresIn: 300}))
    t.is(missing.status, 404)
    t.regex(await missing.text(), /<Code>NoSuchKey<\/Code>/)
  } finally {
    await fx.server.close()
  }
})
