/**
 * Versioning as AWS documents it: Enabled, Suspended and never enabled; version ids on PUT, copy
 * and multipart; GET/HEAD/DELETE by version; delete markers; ListObjectVersions with markers,
 * prefixes and delimiter; the null version; batch delete of versions; all of it across a restart.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'
import {clientFor, failure, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
test.before(async () => {
  fx = await startS3()
})
test.after.always(async () => {
  await fx?.server.close()
})

const text = async (bucket: string, key: string, versionId?: string) =>
  (await fx.s3.send(new GetObjectCommand({Bucket: bucket, Key: key, VersionId: versionId}))).Body?.transformToString()

const enable = (bucket: string, status: 'Enabled' | 'Suspended' = 'Enabled') =>
  fx.s3.send(new PutBucketVersioningCommand({Bucket: bucket, VersioningConfiguration: {Status: status}}))

test('versioning states; version ids on PUT, copy and multipart; reads by version; the null version kept from before', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'ver'}))
  t.is((await fx.s3.send(new GetBucketVersioningCommand({Bucket: 'ver'}))).Status, undefined)
  const before = await fx.s3.send(new PutObjectCommand({Bucket: 'ver', Key: 'k', Body: 'zero'}))
  t.is(before.VersionId, undefined)
  await enable('ver')
  t.is((await fx.s3.send(new GetBucketVersioningCommand({Bucket: 'ver'}))).Status, 'Enabled')
  const one = await fx.s3.send(new PutObjectCommand({Bucket: 'ver', Key: 'k', Body: 'one'}))
  const two = await fx.s3.send(new PutObjectCommand({Bucket: 'ver', Key: 'k', Body: 'two'}))
  t.regex(one.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/)
  t.not(one.VersionId, two.VersionId)
  t.is(await text('ver', 'k'), 'two')
  t.is(await text('ver', 'k', one.VersionId), 'one')
  t.is(await text('ver', 'k', 'null'), 'zero')
  const head = await fx.s3.send(new HeadObjectCommand({Bucket: 'ver', Key: 'k', VersionId: one.VersionId}))
  t.is(head.VersionId, one.VersionId)
  t.is(head.ContentLength, 3)
  t.is((await fx.s3.send(new HeadObjectCommand({Bucket: 'ver', Key: 'k', VersionId: 'null'}))).VersionId, 'null')
  const copy = await fx.s3.send(new CopyObjectCommand({Bucket: 'ver', Key: 'copied', CopySource: `ver/k?versionId=${one.VersionId}`}))
  t.is(copy.CopySourceVersionId, one.VersionId)
  t.truthy(copy.VersionId)
  t.is(await text('ver', 'copied'), 'one')
  const upload = await fx.s3.send(new CreateMultipartUploadCommand({Bucket: 'ver', Key: 'mp'}))
  const part = await fx.s3.send(new UploadPartCommand({Bucket: 'ver', Key: 'mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'mp'}))
  const done = await fx.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'ver',
      Key: 'mp',
      UploadId: upload.UploadId,
      MultipartUpload: {Parts: [{PartNumber: 1, ETag: part.ETag}]},
    }),
  )
  t.truthy(done.VersionId)
  const listed = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'ver', Prefix: 'k'}))
  t.deepEqual(
    listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]),
    [
      [two.VersionId, true, 3],
      [one.VersionId, false, 3],
      ['null', false, 4],
    ],
  )
  t.is((await failure(fx.s3.send(new GetObjectCommand({Bucket: 'ver', Key: 'k', VersionId: 'nonsense!'})))).name, 'InvalidArgument')
  const unknown = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'ver', Key: 'k', VersionId: 'A'.repeat(32)})))
  t.is(unknown.name, 'NoSuchVersion')
  t.is(unknown.status, 404)
})

test('delete markers: DELETE hides the key, GET of the marker is 405, deleting the marker brings the object back', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'markers'}))
  await enable('markers')
  const put = await fx.s3.send(new PutObjectCommand({Bucket: 'markers', Key: 'doc', Body: 'kept'}))
  const deleted = await fx.s3.send(new DeleteObjectCommand({Bucket: 'markers', Key: 'doc'}))
  t.true(deleted.DeleteMarker)
  t.truthy(deleted.VersionId)
  const gone = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'markers', Key: 'doc'})))
  t.is(gone.name, 'NoSuchKey')
  t.is((await fx.s3.send(new ListObjectsV2Command({Bucket: 'markers'}))).KeyCount, 0)
  const marker = await failure(fx.s3.send(new GetObjectCommand({Bucket: 'markers', Key: 'doc', VersionId: deleted.VersionId})))
  t.is(marker.status, 405)
  const versions = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'markers'}))
  t.deepEqual(
    versions.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]),
    [['doc', deleted.VersionId, true]],
  )
  t.deepEqual(
    versions.Versions?.map((v) => [v.VersionId, v.IsLatest]),
    [[put.VersionId, false]],
  )
  // Removing the marker itself: answered as a delete marker, and the object is back.
  const undone = await fx.s3.send(new DeleteObjectCommand({Bucket: 'markers', Key: 'doc', VersionId: deleted.VersionId}))
  t.true(undone.DeleteMarker)
  t.is(undone.VersionId, deleted.VersionId)
  t.is(await text('markers', 'doc'), 'kept')
  // Deleting a version for good; a bucket with versions left is not empty.
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'markers', Key: 'doc'}))
  t.is((await failure(fx.s3.send(new DeleteBucketCommand({Bucket: 'markers'})))).name, 'BucketNotEmpty')
  const all = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'markers'}))
  const result = await fx.s3.send(
    new DeleteObjectsCommand({
      Bucket: 'markers',
      Delete: {
        Objects: [
          ...(all.Versions ?? []).map((v) => ({Key: v.Key as string, VersionId: v.VersionId})),
          ...(all.DeleteMarkers ?? []).map((m) => ({Key: m.Key as string, VersionId: m.VersionId})),
        ],
      },
    }),
  )
  t.is(result.Deleted?.length, 2)
  t.is(result.Deleted?.filter((d) => d.DeleteMarker).length, 1)
  t.is((await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'markers'}))).Versions, undefined)
  await fx.s3.send(new DeleteBucketCommand({Bucket: 'markers'}))
})

test('suspended versioning writes and deletes the null version; older versions stay', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'suspended'}))
  await enable('suspended')
  const kept = await fx.s3.send(new PutObjectCommand({Bucket: 'suspended', Key: 'k', Body: 'versioned'}))
  await enable('suspended', 'Suspended')
  t.is((await fx.s3.send(new GetBucketVersioningCommand({Bucket: 'suspended'}))).Status, 'Suspended')
  await fx.s3.send(new PutObjectCommand({Bucket: 'suspended', Key: 'k', Body: 'null 1'}))
  await fx.s3.send(new PutObjectCommand({Bucket: 'suspended', Key: 'k', Body: 'null 2'}))
  const list = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'suspended'}))
  t.deepEqual(
    list.Versions?.map((v) => [v.VersionId, v.IsLatest]),
    [
      ['null', true],
      [kept.VersionId, false],
    ],
  )
  t.is(await text('suspended', 'k'), 'null 2')
  const marker = await fx.s3.send(new DeleteObjectCommand({Bucket: 'suspended', Key: 'k'}))
  t.true(marker.DeleteMarker)
  t.is(marker.VersionId, 'null')
  const after = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'suspended'}))
  t.deepEqual(
    after.Versions?.map((v) => v.VersionId),
    [kept.VersionId],
  )
  t.deepEqual(
    after.DeleteMarkers?.map((m) => m.VersionId),
    ['null'],
  )
})

test('ListObjectVersions pages by key and version-id markers, with prefix and delimiter, and lists an unversioned bucket as null versions', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'pages'}))
  await enable('pages')
  const expected: string[] = []
  for (const key of ['a/1', 'a/2', 'b', 'c/x/y', 'd']) {
    const ids: string[] = []
    for (let i = 0; i < 3; i++)
      ids.unshift((await fx.s3.send(new PutObjectCommand({Bucket: 'pages', Key: key, Body: `${key}${i}`}))).VersionId as string)
    expected.push(...ids.map((id) => `${key}@${id}`))
  }
  const seen: string[] = []
  let page: ListObjectVersionsCommandOutput | undefined
  do {
    page = await fx.s3.send(
      new ListObjectVersionsCommand({
        Bucket: 'pages',
        MaxKeys: 4,
        KeyMarker: page?.NextKeyMarker,
        VersionIdMarker: page?.NextVersionIdMarker,
      }),
    )
    t.true((page.Versions?.length ?? 0) <= 4)
    for (const v of page.Versions ?? []) seen.push(`${v.Key}@${v.VersionId}`)
  } while (page.IsTruncated)
  t.deepEqual(seen, expected)
  const folded = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'pages', Delimiter: '/'}))
  t.deepEqual(
    folded.CommonPrefixes?.map((p) => p.Prefix),
    ['a/', 'c/'],
  )
  t.deepEqual([...new Set(folded.Versions?.map((v) => v.Key))], ['b', 'd'])
  const prefixed = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'pages', Prefix: 'c/', Delimiter: '/'}))
  t.deepEqual(
    prefixed.CommonPrefixes?.map((p) => p.Prefix),
    ['c/x/'],
  )
  // Paging over common prefixes resumes after the prefix.
  const first = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'pages', Delimiter: '/', MaxKeys: 1}))
  t.deepEqual(
    first.CommonPrefixes?.map((p) => p.Prefix),
    ['a/'],
  )
  const second = await fx.s3.send(
    new ListObjectVersionsCommand({Bucket: 'pages', Delimiter: '/', MaxKeys: 1, KeyMarker: first.NextKeyMarker}),
  )
  t.is(second.Versions?.[0]?.Key, 'b')
  await fx.s3.send(new CreateBucketCommand({Bucket: 'plain'}))
  await fx.s3.send(new PutObjectCommand({Bucket: 'plain', Key: 'p', Body: 'p'}))
  const plain = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'plain'}))
  t.deepEqual(
    plain.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
    [['p', 'null', true]],
  )
  t.is((await failure(fx.s3.send(new ListObjectVersionsCommand({Bucket: 'plain', VersionIdMarker: 'x'})))).name, 'InvalidArgument')
})

test('every version and delete marker survives a restart, in order', async (t) => {
  await fx.s3.send(new CreateBucketCommand({Bucket: 'durable'}))
  await enable('durable')
  const ids: string[] = []
  for (let i = 0; i < 5; i++)
    ids.unshift((await fx.s3.send(new PutObjectCommand({Bucket: 'durable', Key: 'k', Body: `v${i}`}))).VersionId as string)
  const marker = await fx.s3.send(new DeleteObjectCommand({Bucket: 'durable', Key: 'k'}))
  const before = await fx.s3.send(new ListObjectVersionsCommand({Bucket: 'durable'}))
  const second = await startServer({stateDir: fx.stateDir, port: 0})
  try {
    const s3 = clientFor(second.endpoint)
    const after = await s3.send(new ListObjectVersionsCommand({Bucket: 'durable'}))
    t.deepEqual(after.Versions, before.Versions)
    t.deepEqual(after.DeleteMarkers, before.DeleteMarkers)
    t.deepEqual(
      after.Versions?.map((v) => v.VersionId),
      ids,
    )
    t.is(after.DeleteMarkers?.[0]?.VersionId, marker.VersionId)
    t.is(await (await s3.send(new GetObjectCommand({Bucket: 'durable', Key: 'k', VersionId: ids[2]}))).Body?.transformToString(), 'v2')
    t.is((await s3.send(new GetBucketVersioningCommand({Bucket: 'durable'}))).Status, 'Enabled')
  } finally {
    await second.close()
  }
})
