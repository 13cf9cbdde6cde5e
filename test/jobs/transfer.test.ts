/**
 * src/jobs/transfer.ts against the embedded emulator: a file that fits in a part goes in one
 * PUT, a bigger one in parts; either way the object's ETag is what localEtag computes (so
 * sameContent recognises it), its CRC32 is S3's (full-object or composite), the bytes come
 * back exact, and an aborted or failed upload leaves no object and no open upload behind.
 */
import {createHash} from 'node:crypto'
import {truncateSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command} from '@aws-sdk/client-s3'
import test from 'ava'
import {downloadVerified, localEtag, MiB, partSizeFor, sameContent, uploadFile} from '../../src/jobs/transfer.js'
import {type S3Fixture, startS3} from '../emulator/s3/helpers.js'

let fixture: S3Fixture
let work: string
const bucket = 'transfers'

test.before(async () => {
  fixture = await startS3()
  work = await mkdtemp(join(tmpdir(), 'ncap-transfer-'))
  await fixture.s3.send(new CreateBucketCommand({Bucket: bucket}))
})

test.after.always(async () => {
  fixture.s3.destroy()
  await fixture.server.close()
  await rm(work, {recursive: true, force: true})
})

/** Bytes that differ from block to block, so a part sent twice or out of place changes the ETag. */
function bytesOf(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i + 4 <= size; i += 4) bytes.writeUInt32LE(((i + seed) * 2654435761) >>> 0, i)
  return bytes
}

const crc32Base64 = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(bytes) >>> 0)
  return out.toString('base64')
}

test.serial('a file that fits in a part: one PUT, MD5 ETag, full-object CRC32, recognised by sameContent', async (t) => {
  const file = join(work, 'small.bin')
  const bytes = bytesOf(300 * 1024 + 3, 1)
  await writeFile(file, bytes)
  const seen: number[] = []
  await uploadFile(fixture.s3, bucket, 'in/small.bin', file, {progress: (_f, loaded) => seen.push(loaded)})
  const head = await fixture.s3.send(new HeadObjectCommand({Bucket: bucket, Key: 'in/small.bin', ChecksumMode: 'ENABLED'}))
  t.is(head.ETag, `"${createHash('md5').update(bytes).digest('hex')}"`)
  t.is(head.ETag, await localEtag(file, undefined))
  t.is(head.ChecksumCRC32, crc32Base64(bytes))
  t.is(head.ContentLength, bytes.length)
  t.is(seen.at(-1), bytes.length)
  t.true(await sameContent(fixture.s3, bucket, 'in/small.bin', file))
})

test.serial('a file of several parts: multipart ETag as localEtag computes it, composite CRC32, bytes exact on the way back', async (t) => {
  const file = join(work, 'big.bin')
  const size = 2 * partSizeFor(20 * MiB) + 12345
  const bytes = bytesOf(size, 2)
  await writeFile(file, bytes)
  const seen: number[] = []
  await uploadFile(fixture.s3, bucket, 'in/big.bin', file, {progress: (_f, loaded) => seen.push(loaded)})
  const head = await fixture.s3.send(new HeadObjectCommand({Bucket: bucket, Key: 'in/big.bin', ChecksumMode: 'ENABLED'}))
  t.is(head.ContentLength, size)
  t.is(head.ETag, await localEtag(file, partSizeFor(size)))
  t.regex(head.ETag ?? '', /-3"$/)
  t.regex(head.ChecksumCRC32 ?? '', /-3$/, 'the composite CRC32 of the three parts')
  t.deepEqual(
    [...new Set(seen)].sort((a, b) => a - b),
    seen,
    'progress only grows',
  )
  t.is(seen.at(-1), size)
  t.true(await sameContent(fixture.s3, bucket, 'in/big.bin', file))
  const back = join(work, 'back', 'big.bin')
  const got = await downloadVerified(fixture.s3, bucket, 'in/big.bin', back)
  t.deepEqual(got, {bytes: size, skipped: false})
  t.true((await readFile(back)).equals(bytes))
})

test.serial('an aborted upload rejects and leaves neither an object nor an open multipart upload', async (t) => {
  const file = join(work, 'aborted.bin')
  await writeFile(file, bytesOf(6 * partSizeFor(1), 3))
  const controller = new AbortController()
  const upload = uploadFile(fixture.s3, bucket, 'in/aborted.bin', file, {
    signal: controller.signal,
    progress: (_f, loaded) => {
      if (loaded > 0) controller.abort(new Error('stopped by the test'))
    },
  })
  await t.throwsAsync(upload)
  const listed = await fixture.s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'in/aborted.bin'}))
  t.is(listed.KeyCount, 0)
  const open = await fixture.s3.send(new ListMultipartUploadsCommand({Bucket: bucket}))
  t.deepEqual(open.Uploads ?? [], [])
})

test.serial('a file that shrinks while it uploads: FileChanged naming the file, and no object nor open upload left', async (t) => {
  const file = join(work, 'shrinks.bin')
  await writeFile(file, bytesOf(10 * partSizeFor(1), 5))
  let cut = false
  const upload = uploadFile(fixture.s3, bucket, 'in/shrinks.bin', file, {
    progress: (_f, loaded) => {
      if (loaded > 0 && !cut) {
        cut = true
        truncateSync(file, partSizeFor(1) + 1)
      }
    },
  })
  const error = await t.throwsAsync(upload, {message: new RegExp(`${file} changed while it was being uploaded`)})
  t.is((error as {code?: string}).code, 'FileChanged')
  t.is((await fixture.s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'in/shrinks.bin'}))).KeyCount, 0)
  t.deepEqual((await fixture.s3.send(new ListMultipartUploadsCommand({Bucket: bucket}))).Uploads ?? [], [])
})

test.serial('a failed upload (no such bucket) rejects with the service error', async (t) => {
  const file = join(work, 'nowhere.bin')
  await writeFile(file, bytesOf(2 * partSizeFor(1) + 1, 4))
  const error = await t.throwsAsync(uploadFile(fixture.s3, 'no-such-bucket-here', 'x.bin', file))
  t.is(error?.name, 'NoSuchBucket')
  const small = join(work, 'tiny.txt')
  await writeFile(small, 'tiny\n')
  const again = await t.throwsAsync(uploadFile(fixture.s3, 'no-such-bucket-here', 'tiny.txt', small))
  t.is(again?.name, 'NoSuchBucket')
})
