import {createHash} from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import {Upload} from '@aws-sdk/lib-storage'
import test from 'ava'
import {failure, filesUnder, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
test.before(async () => {
  fx = await startS3()
  await fx.s3.send(new CreateBucketCommand({Bucket: 'multi'}))
  // Its own bucket: the tests run concurrently, and this one checks that no upload is left in its bucket.
  await fx.s3.send(new CreateBucketCommand({Bucket: 'multi-lib'}))
})
test.after.always(async () => {
  await fx?.server.close()
})

const MiB = 1024 * 1024
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += 4) out.writeUInt32LE((i * 2654435761 + seed) >>> 0, i)
  return out
}

test('lib-storage Upload: a 12 MiB object in parts, multipart ETag, byte-exact, ranges across parts', async (t) => {
  const body = pattern(12 * MiB, 7)
  const upload = new Upload({
    client: fx.s3,
    params: {Bucket: 'multi-lib', Key: 'big/object.bin', Body: body, ContentType: 'application/x-test'},
    partSize: 5 * MiB,
  })
  const done = await upload.done()
  const md5s = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)].map((part) =>
    createHash('md5').update(part).digest(),
  )
  const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3"`
  t.is(done.ETag, expected)
  const got = await fx.s3.send(new GetObjectCommand({Bucket: 'multi-lib', Key: 'big/object.bin'}))
  t.is(got.ETag, expected)
  t.is(got.ContentType, 'application/x-test')
  t.true(Buffer.from((await got.Body?.transformToByteArray()) as Uint8Array).equals(body))
  const across = await fx.s3.send(
    new GetObjectCommand({Bucket: 'multi-lib', Key: 'big/object.bin', Range: `bytes=${5 * MiB - 3}-${10 * MiB + 2}`}),
  )
  t.true(Buffer.from((await across.Body?.transformToByteArray()) as Uint8Array).equals(body.subarray(5 * MiB - 3, 10 * MiB + 3)))
  // Nothing of the upload is left behind.
  t.deepEqual(
    (await filesUnder(fx.stateDir)).filter((path) => path.includes('/multi-lib/uploads/')),
    [],
  )
})

test('create, upload parts, list parts and uploads, complete with a composite checksum', async (t) => {
  const created = await fx.s3.send(
    new CreateMultipartUploadCommand({Bucket: 'multi', Key: 'manual', ChecksumAlgorithm: 'SHA256', Metadata: {m: 'v'}}),
  )
  const uploadId = created.UploadId as string
  const part1 = pattern(5 * MiB, 1)
  const part2 = Buffer.from('tail')
  const p1 = await fx.s3.send(
    new UploadPartCommand({Bucket: 'multi', Key: 'manual', UploadId: uploadId, PartNumber: 1, Body: part1, ChecksumAlgorithm: 'SHA256'}),
  )
  const p2 = await fx.s3.send(
    new UploadPartCommand({Bucket: 'multi', Key: 'manual', UploadId: uploadId, PartNumber: 2, Body: part2, ChecksumAlgorithm: 'SHA256'}),
  )
  t.is(p1.ChecksumSHA256, createHash('sha256').update(part1).digest('base64'))
  const parts = await fx.s3.send(new ListPartsCommand({Bucket: 'multi', Key: 'manual', UploadId: uploadId}))
  t.deepEqual(
    parts.Parts?.map((part) => [part.PartNumber, part.Size, part.ETag]),
    [
      [1, 5 * MiB, p1.ETag],
      [2, 4, p2.ETag],
    ],
  )
  const uploads = await fx.s3.send(new ListMultipartUploadsCommand({Bucket: 'multi'}))
  t.true(uploads.Uploads?.some((upload) => upload.UploadId === uploadId && upload.Key === 'manual'))
  const done = await fx.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'multi',
      Key: 'manual',
      UploadId: uploadId,
      MultipartUpload: {
        Parts: [
          {PartNumber: 1, ETag: p1.ETag, ChecksumSHA256: p1.ChecksumSHA256},
          {PartNumber: 2, ETag: p2.ETag, ChecksumSHA256: p2.ChecksumSHA256},
        ],
      },
    }),
  )
  const composite = createHash('sha256')
    .update(Buffer.concat([createHash('sha256').update(part1).digest(), createHash('sha256').update(part2).digest()]))
    .digest('base64')
  t.is(done.ChecksumSHA256, `${composite}-2`)
  const head = await fx.s3.send(new HeadObjectCommand({Bucket: 'multi', Key: 'manual'}))
  t.is(head.ContentLength, 5 * MiB + 4)
  t.deepEqual(head.Metadata, {m: 'v'})
  t.is((await failure(fx.s3.send(new ListPartsCommand({Bucket: 'multi', Key: 'manual', UploadId: uploadId})))).name, 'NoSuchUpload')
})

test('multipart errors: NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, abort', async (t) => {
  const {UploadId} = await fx.s3.send(new CreateMultipartUploadCommand({Bucket: 'multi', Key: 'errs'}))
  const uploadId = UploadId as string
  const small1 = await fx.s3.send(
    new UploadPartCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId, PartNumber: 1, Body: 'small one'}),
  )
  const small2 = await fx.s3.send(
    new UploadPartCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId, PartNumber: 2, Body: 'small two'}),
  )
  const complete = (Parts: {PartNumber: number; ETag?: string}[]) =>
    fx.s3.send(new CompleteMultipartUploadCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId, MultipartUpload: {Parts}}))
  t.is((await failure(complete([{PartNumber: 1, ETag: '"0123"'}]))).name, 'InvalidPart')
  t.is((await failure(complete([{PartNumber: 3, ETag: small1.ETag}]))).name, 'InvalidPart')
  t.is(
    (
      await failure(
        complete([
          {PartNumber: 2, ETag: small2.ETag},
          {PartNumber: 1, ETag: small1.ETag},
        ]),
      )
    ).name,
    'InvalidPartOrder',
  )
  t.is(
    (
      await failure(
        complete([
          {PartNumber: 1, ETag: small1.ETag},
          {PartNumber: 2, ETag: small2.ETag},
        ]),
      )
    ).name,
    'EntityTooSmall',
  )
  const badPart = await failure(
    fx.s3.send(new UploadPartCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId, PartNumber: 10001, Body: 'x'})),
  )
  t.is(badPart.name, 'InvalidArgument')
  await fx.s3.send(new AbortMultipartUploadCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId}))
  t.is(
    (await failure(fx.s3.send(new AbortMultipartUploadCommand({Bucket: 'multi', Key: 'errs', UploadId: uploadId})))).name,
    'NoSuchUpload',
  )
  t.is(
    (await failure(fx.s3.send(new UploadPartCommand({Bucket: 'multi', Key: 'errs', UploadId: '../../../etc', PartNumber: 1, Body: 'x'}))))
      .name,
    'NoSuchUpload',
  )
  // A single small part is a valid upload (the last part may be small).
  const single = await fx.s3.send(new CreateMultipartUploadCommand({Bucket: 'multi', Key: 'single'}))
  const only = await fx.s3.send(
    new UploadPartCommand({Bucket: 'multi', Key: 'single', UploadId: single.UploadId, PartNumber: 1, Body: 'only'}),
  )
  await fx.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'multi',
      Key: 'single',
      UploadId: single.UploadId,
      MultipartUpload: {Parts: [{PartNumber: 1, ETag: only.ETag}]},
    }),
  )
  t.is(await (await fx.s3.send(new GetObjectCommand({Bucket: 'multi', Key: 'single'}))).Body?.transformToString(), 'only')
})
