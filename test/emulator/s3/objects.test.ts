import {createHash} from 'node:crypto'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {failure, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
test.before(async () => {
  fx = await startS3()
  await fx.s3.send(new CreateBucketCommand({Bucket: 'objects'}))
})
test.after.always(async () => {
  await fx?.server.close()
})

const md5 = (text: string | Buffer) => createHash('md5').update(text).digest('hex')

test('put then get returns the bytes, MD5 ETag, content type and metadata', async (t) => {
  const put = await fx.s3.send(
    new PutObjectCommand({
      Bucket: 'objects',
      Key: 'docs/readme.txt',
      Body: 'hello world',
      ContentType: 'text/plain',
      Metadata: {owner: 'alice', Mixed: 'Case'},
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment',
    }),
  )
  t.is(put.ETag, `"${md5('hello world')}"`)
  const got = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'docs/readme.txt'}))
  t.is(await got.Body?.transformToString(), 'hello world')
  t.is(got.ETag, put.ETag)
  t.is(got.ContentType, 'text/plain')
  t.is(got.ContentLength, 11)
  t.is(got.CacheControl, 'max-age=60')
  t.is(got.ContentDisposition, 'attachment')
  t.deepEqual(got.Metadata, {owner: 'alice', mixed: 'Case'})
  t.true(got.LastModified instanceof Date)
})

test('head returns the headers without a body; a missing key is NotFound (404) on HEAD and NoSuchKey on GET', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'head-me', Body: 'abc'}))
  const head = await fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'head-me'}))
  t.is(head.ContentLength, 3)
  const missingHead = await failure(fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'nope'})))
  t.is(missingHead.status, 404)
  t.is(missingHead.name, 'NotFound')
  const missingGet = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'nope'})))
  t.is(missingGet.name, 'NoSuchKey')
  t.is(missingGet.status, 404)
  const noBucket = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'no-such-bucket', Key: 'k'})))
  t.is(noBucket.name, 'NoSuchBucket')
})

test('keys with odd characters are kept byte for byte and listed back', async (t) => {
  const keys = [
    'a b',
    'plus+sign',
    'percent%2Fslash',
    '../up',
    'dots/../..',
    '..',
    '.',
    'ünïcödé/日本',
    'q?x=1&y',
    'hash#frag',
    '//double',
    'tab\there',
  ]
  for (const key of keys) await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: `odd/${key}`, Body: key}))
  for (const key of keys) {
    const got = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: `odd/${key}`}))
    t.is(await got.Body?.transformToString(), key)
  }
  const listed = await fx.s3.send(new ListObjectsV2Command({Bucket: 'objects', Prefix: 'odd/'}))
  t.deepEqual(listed.Contents?.map((item) => item.Key).sort(), keys.map((key) => `odd/${key}`).sort())
})

test('overwrite replaces the object whole; delete removes it and deleting again succeeds', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'over', Body: 'first'}))
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'over', Body: 'second version'}))
  const got = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'over'}))
  t.is(await got.Body?.transformToString(), 'second version')
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'objects', Key: 'over'}))
  t.is((await failure(fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'over'})))).name, 'NoSuchKey')
  await t.notThrowsAsync(fx.s3.send(new DeleteObjectCommand({Bucket: 'objects', Key: 'over'})))
})

test('ranges: first bytes, suffix, open-ended; unsatisfiable is InvalidRange 416', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'digits', Body: '0123456789abcdef'}))
  const get = async (Range: string) => {
    const out = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'digits', Range}))
    return {body: await out.Body?.transformToString(), range: out.ContentRange, length: out.ContentLength}
  }
  t.deepEqual(await get('bytes=0-9'), {body: '0123456789', range: 'bytes 0-9/16', length: 10})
  t.deepEqual(await get('bytes=-4'), {body: 'cdef', range: 'bytes 12-15/16', length: 4})
  t.deepEqual(await get('bytes=10-'), {body: 'abcdef', range: 'bytes 10-15/16', length: 6})
  t.deepEqual(await get('bytes=14-100'), {body: 'ef', range: 'bytes 14-15/16', length: 2})
  const bad = await failure(get('bytes=16-20'))
  t.is(bad.name, 'InvalidRange')
  t.is(bad.status, 416)
})

test('conditional GET and HEAD: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async (t) => {
  const put = await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'cond', Body: 'conditional'}))
  const etag = put.ETag as string
  const ok = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'cond', IfMatch: etag}))
  t.is(await ok.Body?.transformToString(), 'conditional')
  const failed = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'cond', IfMatch: '"0000"'})))
  t.is(failed.status, 412)
  t.is(failed.name, 'PreconditionFailed')
  const notModified = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'cond', IfNoneMatch: etag})))
  t.is(notModified.status, 304)
  const future = new Date(Date.now() + 3600_000)
  const past = new Date(Date.now() - 3600_000)
  t.is((await failure(fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'cond', IfModifiedSince: future})))).status, 304)
  t.is((await fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'cond', IfModifiedSince: past}))).ETag, etag)
  t.is((await failure(fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'cond', IfUnmodifiedSince: past})))).status, 412)
})

test('If-None-Match: * on PUT refuses to overwrite', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'once', Body: 'one', IfNoneMatch: '*'}))
  const again = await failure(fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'once', Body: 'two', IfNoneMatch: '*'})))
  t.is(again.status, 412)
  const got = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'once'}))
  t.is(await got.Body?.transformToString(), 'one')
})

test('checksums: CRC32, CRC32C, SHA256, SHA1, CRC64NVME stored and returned when asked; a wrong one is BadDigest', async (t) => {
  const body = Buffer.from('checksum me please')
  for (const algorithm of ['CRC32', 'CRC32C', 'SHA256', 'SHA1', 'CRC64NVME'] as const) {
    const key = `sum-${algorithm}`
    const put = await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: key, Body: body, ChecksumAlgorithm: algorithm}))
    const field = `Checksum${algorithm}` as const
    t.truthy(put[field], algorithm)
    const got = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: key, ChecksumMode: 'ENABLED'}))
    t.is(got[field], put[field])
    t.is(await got.Body?.transformToString(), body.toString())
  }
  const sha256 = createHash('sha256').update(body).digest('base64')
  const head = await fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'sum-SHA256', ChecksumMode: 'ENABLED'}))
  t.is(head.ChecksumSHA256, sha256)
  // CRC64/NVME of "123456789" is 0xae8b14860a799888.
  const check = await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'crc64', Body: '123456789', ChecksumAlgorithm: 'CRC64NVME'}))
  t.is(Buffer.from(check.ChecksumCRC64NVME as string, 'base64').toString('hex'), 'ae8b14860a799888')
  const wrong = await failure(
    fx.s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'bad-sum',
        Body: body,
        ChecksumSHA256: createHash('sha256').update('other').digest('base64'),
      }),
    ),
  )
  t.is(wrong.name, 'BadDigest')
  t.is((await failure(fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'bad-sum'})))).status, 404)
  const badMd5 = await failure(
    fx.s3.send(
      new PutObjectCommand({Bucket: 'objects', Key: 'bad-md5', Body: body, ContentMD5: createHash('md5').update('x').digest('base64')}),
    ),
  )
  t.is(badMd5.name, 'BadDigest')
})

test('copy keeps or replaces metadata; copy onto itself without change is InvalidRequest; conditions apply', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'src', Body: 'copy me', ContentType: 'text/x-src', Metadata: {a: '1'}}))
  const copied = await fx.s3.send(new CopyObjectCommand({Bucket: 'objects', Key: 'dst', CopySource: 'objects/src'}))
  t.is(copied.CopyObjectResult?.ETag, `"${md5('copy me')}"`)
  const dst = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'dst'}))
  t.is(await dst.Body?.transformToString(), 'copy me')
  t.is(dst.ContentType, 'text/x-src')
  t.deepEqual(dst.Metadata, {a: '1'})
  await fx.s3.send(
    new CopyObjectCommand({
      Bucket: 'objects',
      Key: 'dst2',
      CopySource: 'objects/src',
      MetadataDirective: 'REPLACE',
      Metadata: {b: '2'},
      ContentType: 'text/new',
    }),
  )
  const dst2 = await fx.s3.send(new HeadObjectCommand({Bucket: 'objects', Key: 'dst2'}))
  t.deepEqual(dst2.Metadata, {b: '2'})
  t.is(dst2.ContentType, 'text/new')
  // Overwriting the source leaves the copy intact (the copy shares no mutable state).
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'src', Body: 'changed'}))
  t.is(await (await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'dst'}))).Body?.transformToString(), 'copy me')
  t.is(
    (await failure(fx.s3.send(new CopyObjectCommand({Bucket: 'objects', Key: 'src', CopySource: 'objects/src'})))).name,
    'InvalidRequest',
  )
  t.is((await failure(fx.s3.send(new CopyObjectCommand({Bucket: 'objects', Key: 'x', CopySource: 'objects/missing'})))).name, 'NoSuchKey')
  t.is(
    (
      await failure(
        fx.s3.send(new CopyObjectCommand({Bucket: 'objects', Key: 'x', CopySource: 'objects/src', CopySourceIfMatch: '"nope"'})),
      )
    ).status,
    412,
  )
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'spaced key+plus', Body: 'odd'}))
  await fx.s3.send(
    new CopyObjectCommand({Bucket: 'objects', Key: 'copied-odd', CopySource: `objects/${encodeURIComponent('spaced key+plus')}`}),
  )
  t.is(await (await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'copied-odd'}))).Body?.transformToString(), 'odd')
})

test('batch delete reports each key; Quiet reports only errors', async (t) => {
  for (const key of ['d1', 'd2', 'd3']) await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: `batch/${key}`, Body: key}))
  const out = await fx.s3.send(
    new DeleteObjectsCommand({Bucket: 'objects', Delete: {Objects: [{Key: 'batch/d1'}, {Key: 'batch/d2'}, {Key: 'batch/never'}]}}),
  )
  t.deepEqual(out.Deleted?.map((item) => item.Key).sort(), ['batch/d1', 'batch/d2', 'batch/never'])
  t.is(out.Errors, undefined)
  const quiet = await fx.s3.send(new DeleteObjectsCommand({Bucket: 'objects', Delete: {Quiet: true, Objects: [{Key: 'batch/d3'}]}}))
  t.is(quiet.Deleted, undefined)
  const left = await fx.s3.send(new ListObjectsV2Command({Bucket: 'objects', Prefix: 'batch/'}))
  t.is(left.KeyCount, 0)
})

test('an empty object and a 5 MB object stream back exactly', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'empty', Body: ''}))
  const empty = await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'empty'}))
  t.is((await empty.Body?.transformToByteArray())?.length, 0)
  t.is(empty.ETag, `"${md5('')}"`)
  const big = Buffer.alloc(5 * 1024 * 1024 + 7)
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
  await fx.s3.send(new PutObjectCommand({Bucket: 'objects', Key: 'big', Body: big}))
  const got = Buffer.from(
    (await (await fx.s3.send(new GetObjectCommand({Bucket: 'objects', Key: 'big'}))).Body?.transformToByteArray()) as Uint8Array,
  )
  t.true(got.equals(big))
})
