import {CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, paginateListObjectsV2} from '@aws-sdk/client-s3'
import test from 'ava'
import {failure, type S3Fixture, startS3} from './helpers.js'

let fx: S3Fixture
// 2,500 keys: 25 folders × 99 files, plus 25 top-level files.
const keys: string[] = []
for (let folder = 0; folder < 25; folder++) {
  for (let file = 0; file < 99; file++) keys.push(`data/f${String(folder).padStart(2, '0')}/k${String(file).padStart(3, '0')}`)
  keys.push(`data/top-${String(folder).padStart(2, '0')}`)
}

test.before(async () => {
  fx = await startS3()
  await fx.s3.send(new CreateBucketCommand({Bucket: 'listing'}))
  const queue = [...keys]
  await Promise.all(
    Array.from({length: 16}, async () => {
      for (let key = queue.pop(); key !== undefined; key = queue.pop())
        await fx.s3.send(new PutObjectCommand({Bucket: 'listing', Key: key, Body: key}))
    }),
  )
})
test.after.always(async () => {
  await fx?.server.close()
})

test('ListObjectsV2 pages through 2,500 keys in order with continuation tokens', async (t) => {
  const seen: string[] = []
  let pages = 0
  for await (const page of paginateListObjectsV2({client: fx.s3}, {Bucket: 'listing'})) {
    pages++
    for (const item of page.Contents ?? []) seen.push(item.Key as string)
    t.true((page.KeyCount ?? 0) <= 1000)
  }
  t.is(pages, 3)
  t.deepEqual(seen, [...keys].sort())
})

test('delimiter folds folders into common prefixes, paginated', async (t) => {
  const first = await fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', Prefix: 'data/', Delimiter: '/', MaxKeys: 30}))
  t.is(first.KeyCount, 30)
  t.is(first.CommonPrefixes?.length, 25)
  t.is(first.Contents?.length, 5)
  t.true(first.IsTruncated)
  const rest = await fx.s3.send(
    new ListObjectsV2Command({
      Bucket: 'listing',
      Prefix: 'data/',
      Delimiter: '/',
      MaxKeys: 30,
      ContinuationToken: first.NextContinuationToken,
    }),
  )
  t.false(rest.IsTruncated)
  t.is(rest.Contents?.length, 20)
  t.is(rest.CommonPrefixes, undefined)
  const all = [...(first.CommonPrefixes ?? []), ...(first.Contents ?? []), ...(rest.Contents ?? [])]
  t.is(new Set(all.map((item) => ('Prefix' in item ? item.Prefix : (item as {Key: string}).Key))).size, 50)
  // A page boundary inside a folder: the folder is never repeated on the next page.
  const one = await fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', Prefix: 'data/', Delimiter: '/', MaxKeys: 1}))
  t.deepEqual(one.CommonPrefixes, [{Prefix: 'data/f00/'}])
  const two = await fx.s3.send(
    new ListObjectsV2Command({
      Bucket: 'listing',
      Prefix: 'data/',
      Delimiter: '/',
      MaxKeys: 1,
      ContinuationToken: one.NextContinuationToken,
    }),
  )
  t.deepEqual(two.CommonPrefixes, [{Prefix: 'data/f01/'}])
})

test('StartAfter, prefix, max-keys 0 and a bad continuation token', async (t) => {
  const after = await fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', Prefix: 'data/f24/', StartAfter: 'data/f24/k096'}))
  t.deepEqual(
    after.Contents?.map((item) => item.Key),
    ['data/f24/k097', 'data/f24/k098'],
  )
  t.is(after.StartAfter, 'data/f24/k096')
  const none = await fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', MaxKeys: 0}))
  t.is(none.KeyCount, 0)
  const bad = await failure(fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', ContinuationToken: '!!!'})))
  t.is(bad.name, 'InvalidArgument')
  t.is((await failure(fx.s3.send(new ListObjectsV2Command({Bucket: 'missing-bucket'})))).name, 'NoSuchBucket')
})

test('ListObjects v1 with Marker and NextMarker', async (t) => {
  const first = await fx.s3.send(new ListObjectsCommand({Bucket: 'listing', Prefix: 'data/f03/', MaxKeys: 50}))
  t.is(first.Contents?.length, 50)
  t.true(first.IsTruncated)
  t.truthy(first.Contents?.[0]?.Owner?.ID)
  const second = await fx.s3.send(new ListObjectsCommand({Bucket: 'listing', Prefix: 'data/f03/', Marker: first.Contents?.at(-1)?.Key}))
  t.is(second.Contents?.length, 49)
  t.false(second.IsTruncated)
  const folded = await fx.s3.send(new ListObjectsCommand({Bucket: 'listing', Prefix: 'data/', Delimiter: '/', MaxKeys: 3}))
  t.is(folded.NextMarker, 'data/f02/')
  const next = await fx.s3.send(
    new ListObjectsCommand({Bucket: 'listing', Prefix: 'data/', Delimiter: '/', MaxKeys: 3, Marker: folded.NextMarker}),
  )
  t.deepEqual(
    next.CommonPrefixes?.map((item) => item.Prefix),
    ['data/f03/', 'data/f04/', 'data/f05/'],
  )
})

test('EncodingType=url encodes keys in the answer', async (t) => {
  await fx.s3.send(new PutObjectCommand({Bucket: 'listing', Key: 'enc/a b&c', Body: 'x'}))
  const out = await fx.s3.send(new ListObjectsV2Command({Bucket: 'listing', Prefix: 'enc/', EncodingType: 'url'}))
  t.is(out.Contents?.[0]?.Key, 'enc/a%20b%26c')
})
