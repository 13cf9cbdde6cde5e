/**
 * The write and read fast paths: small objects answered from memory, big ones
 * streamed in large batches, folder fsyncs shared by concurrent writers. Each keeps
 * S3's answers exact: a body always matches its own ETag, ranges cut the right bytes,
 * overwritten and deleted objects never come back, and a restart reads the same bytes.
 */
import {createHash, randomBytes} from 'node:crypto'
import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3'
import test from 'ava'
import {SmallObjectCache} from '../../../src/emulator/services/s3/cache.js'
import {syncFolder, writeJsonAtomic} from '../../../src/store/atomic.js'
import {failure, startS3} from './helpers.js'

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

test('the small-object cache evicts least recently used first and never exceeds its budget', (t) => {
  const cache = new SmallObjectCache(1000, 3 * (1000 + 256))
  const entry = (n: number) => Buffer.alloc(1000, n)
  cache.set('a', entry(1))
  cache.set('b', entry(2))
  cache.set('c', entry(3))
  t.truthy(cache.get('a'), 'a is now the most recently used')
  cache.set('d', entry(4))
  t.is(cache.get('b'), undefined, 'b was the least recently used')
  t.deepEqual(cache.get('a'), entry(1))
  t.deepEqual(cache.get('c'), entry(3))
  t.deepEqual(cache.get('d'), entry(4))
  cache.set('big', Buffer.alloc(1001))
  t.is(cache.get('big'), undefined, 'larger than the per-object limit')
  cache.delete('c')
  t.is(cache.get('c'), undefined)
})

test('group commit: concurrent atomic writes in one folder all land; a folder fsync on a missing folder fails', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-atomic-'))
  await Promise.all(Array.from({length: 40}, (_, i) => writeJsonAtomic(join(dir, `${i}.json`), {i}, {createFolder: false})))
  for (let i = 0; i < 40; i++) t.deepEqual(JSON.parse(await readFile(join(dir, `${i}.json`), 'utf8')), {i})
  await t.throwsAsync(syncFolder(join(dir, 'absent')), {code: 'ENOENT'})
  // A write whose `ready` fails is never renamed into place.
  const refused = Promise.reject(new Error('data not durable'))
  await t.throwsAsync(writeJsonAtomic(join(dir, 'never.json'), {}, {ready: refused}), {message: 'data not durable'})
  await t.throwsAsync(readFile(join(dir, 'never.json')), {code: 'ENOENT'})
})

test('small and large objects around the cache limit: byte-exact, ranges, overwrite, delete, restart', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-fast-'))
  let fx = await startS3(stateDir)
  await fx.s3.send(new CreateBucketCommand({Bucket: 'fast'}))
  const bodies: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    tiny: randomBytes(7),
    limit: randomBytes(64 * 1024),
    over: randomBytes(64 * 1024 + 1),
    big: randomBytes(3 * 1024 * 1024 + 17),
  }
  for (const [key, body] of Object.entries(bodies)) {
    const put = await fx.s3.send(new PutObjectCommand({Bucket: 'fast', Key: key, Body: body}))
    t.is(put.ETag, `"${md5(body)}"`, key)
  }
  const get = async (key: string, range?: string) => {
    const got = await fx.s3.send(new GetObjectCommand({Bucket: 'fast', Key: key, ...(range ? {Range: range} : {})}))
    return {etag: got.ETag, bytes: Buffer.from((await got.Body?.transformToByteArray()) as Uint8Array)}
  }
  for (const [key, body] of Object.entries(bodies)) {
    t.true((await get(key)).bytes.equals(body), `${key} whole`)
    if (body.length > 10) t.true((await get(key, 'bytes=3-9')).bytes.equals(body.subarray(3, 10)), `${key} range`)
    if (body.length > 10) t.true((await get(key, 'bytes=-5')).bytes.equals(body.subarray(-5)), `${key} suffix range`)
  }
  const replacement = randomBytes(100)
  await fx.s3.send(new PutObjectCommand({Bucket: 'fast', Key: 'tiny', Body: replacement}))
  t.true((await get('tiny')).bytes.equals(replacement), 'an overwrite is seen at once')
  await fx.s3.send(new DeleteObjectCommand({Bucket: 'fast', Key: 'limit'}))
  t.is((await failure(get('limit'))).name, 'NoSuchKey')

  await fx.server.close()
  fx = await startS3(stateDir)
  t.true((await get('tiny')).bytes.equals(replacement), 'after a restart (cold cache)')
  t.true((await get('over')).bytes.equals(bodies.over as Buffer))
  t.true((await get('big')).bytes.equals(bodies.big as Buffer))
  t.is((await failure(get('limit'))).name, 'NoSuchKey')
  await fx.server.close()
})

test('overwrites racing reads: every GET body matches the ETag it came with', async (t) => {
  const fx = await startS3()
  await fx.s3.send(new CreateBucketCommand({Bucket: 'race'}))
  const versions = Array.from({length: 12}, (_, i) => randomBytes(512 + i * 997))
  await fx.s3.send(new PutObjectCommand({Bucket: 'race', Key: 'k', Body: versions[0]}))
  const known = new Set(versions.map((body) => `"${md5(body)}"`))
  const writes = (async () => {
    for (const body of versions.slice(1)) await fx.s3.send(new PutObjectCommand({Bucket: 'race', Key: 'k', Body: body}))
  })()
  let reads = 0
  const readers = Array.from({length: 4}, async () => {
    for (let i = 0; i < 15; i++) {
      const got = await fx.s3.send(new GetObjectCommand({Bucket: 'race', Key: 'k'}))
      const bytes = (await got.Body?.transformToByteArray()) as Uint8Array
      t.true(known.has(got.ETag ?? ''))
      t.is(got.ETag ?? '', `"${md5(bytes)}"`)
      reads++
    }
  })
  await Promise.all([writes, ...readers])
  t.is(reads, 60)
  const last = await fx.s3.send(new GetObjectCommand({Bucket: 'race', Key: 'k'}))
  t.is(last.ETag, `"${md5(versions.at(-1) as Buffer)}"`)
  await fx.server.close()
})
