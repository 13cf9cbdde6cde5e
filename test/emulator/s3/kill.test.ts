/**
 * Kill safety: the emulator runs as a child process and is SIGKILLed in the
 * middle of a 200 MB upload and of a burst of small writes; after a restart on
 * the same state folder every acknowledged object is byte-exact and nothing
 * partial is visible; and in a burst of versioned PUTs and deletes, every
 * acknowledged version and delete marker survives, byte-exact, in order.
 */

import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtemp, readdir, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {clientFor} from './helpers.js'

const serverModule = new URL('../../../src/emulator/server.ts', import.meta.url).href

async function spawnEmulator(stateDir: string): Promise<{child: ChildProcess; endpoint: string}> {
  const code = `const {startServer} = await import(${JSON.stringify(serverModule)}); const s = await startServer({stateDir: process.env.STATE_DIR, port: 0}); console.log('PORT ' + s.port)`
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    env: {...process.env, STATE_DIR: stateDir},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /PORT (\d+)/.exec(out)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (code) => reject(new Error(`emulator exited early with ${code}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex')

async function largestDataFile(dir: string): Promise<number> {
  let largest = 0
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const size = (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0
    if (size > largest) largest = size
  }
  return largest
}

test('SIGKILL during a 200 MB upload keeps the previous version and leaves nothing partial', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-kill-'))
  const first = await spawnEmulator(stateDir)
  const s3 = clientFor(first.endpoint, {maxAttempts: 1})
  await s3.send(new CreateBucketCommand({Bucket: 'kill'}))
  await s3.send(new PutObjectCommand({Bucket: 'kill', Key: 'big', Body: 'previous version'}))
  const total = 200 * 1024 * 1024
  const block = Buffer.alloc(1024 * 1024, 7)
  const body = Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += block.length) yield block
    })(),
  )
  const upload = s3.send(new PutObjectCommand({Bucket: 'kill', Key: 'big', Body: body, ContentLength: total})).then(
    () => 'acknowledged',
    () => 'failed',
  )
  const objects = join(stateDir, 's3', 'buckets', 'kill', 'objects')
  const deadline = Date.now() + 30_000
  while ((await largestDataFile(objects)) < 50 * 1024 * 1024 && Date.now() < deadline) await sleep(20)
  t.true((await largestDataFile(objects)) >= 50 * 1024 * 1024, 'the upload reached the disk before the kill')
  await kill(first.child)
  t.is(await upload, 'failed')

  const second = await spawnEmulator(stateDir)
  try {
    const again = clientFor(second.endpoint)
    t.is(await (await again.send(new GetObjectCommand({Bucket: 'kill', Key: 'big'}))).Body?.transformToString(), 'previous version')
    const listed = await again.send(new ListObjectsV2Command({Bucket: 'kill'}))
    t.deepEqual(
      listed.Contents?.map((item) => [item.Key, item.Size]),
      [['big', 16]],
    )
    t.true((await largestDataFile(objects)) < 1024, 'the partial data file was removed on restart')
  } finally {
    await kill(second.child)
  }
})

test('SIGKILL during a burst of small PUTs: every acknowledged object is byte-exact, none is partial', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-kill-'))
  const first = await spawnEmulator(stateDir)
  const s3 = clientFor(first.endpoint, {maxAttempts: 1})
  await s3.send(new CreateBucketCommand({Bucket: 'burst'}))
  const sent = new Map<string, string>()
  const acknowledged = new Map<string, string>()
  let stop = false
  let counter = 0
  const workers = Array.from({length: 16}, async () => {
    while (!stop) {
      const n = counter++
      const key = `k/${n}`
      const body = `${key}:${'x'.repeat(n % 4096)}`
      sent.set(key, sha256(body))
      try {
        await s3.send(new PutObjectCommand({Bucket: 'burst', Key: key, Body: body}))
        acknowledged.set(key, sha256(body))
      } catch {
        return
      }
    }
  })
  while (acknowledged.size < 200) await sleep(5)
  await kill(first.child)
  stop = true
  await Promise.all(workers)

  const second = await spawnEmulator(stateDir)
  try {
    const again = clientFor(second.endpoint)
    const listed: string[] = []
    let token: string | undefined
    do {
      const page = await again.send(new ListObjectsV2Command({Bucket: 'burst', ContinuationToken: token}))
      for (const item of page.Contents ?? []) listed.push(item.Key as string)
      token = page.NextContinuationToken
    } while (token)
    for (const key of acknowledged.keys()) t.true(listed.includes(key), `acknowledged ${key} is listed`)
    // Everything visible (acknowledged or committed just before the kill) is whole.
    for (const key of listed) {
      const body = await (await again.send(new GetObjectCommand({Bucket: 'burst', Key: key}))).Body?.transformToString()
      t.is(sha256(body as string), sent.get(key) as string, key)
    }
    t.log(`${acknowledged.size} acknowledged, ${listed.length} visible after restart`)
  } finally {
    await kill(second.child)
  }
})

test('SIGKILL during a burst of versioned PUTs and deletes: every acknowledged version and delete marker is there, byte-exact, in order', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-kill-'))
  const first = await spawnEmulator(stateDir)
  const s3 = clientFor(first.endpoint, {maxAttempts: 1})
  await s3.send(new CreateBucketCommand({Bucket: 'versions'}))
  await s3.send(new PutBucketVersioningCommand({Bucket: 'versions', VersioningConfiguration: {Status: 'Enabled'}}))
  type Op = {versionId: string; marker: boolean; sha?: string}
  const acknowledged = new Map<string, Op[]>()
  let stop = false
  let total = 0
  // One writer per key, so each key's order of commits is the order its writer saw acknowledged.
  const workers = Array.from({length: 12}, async (_, worker) => {
    const key = `key ${worker}`
    const done: Op[] = []
    acknowledged.set(key, done)
    for (let n = 0; !stop; n++) {
      try {
        if (n % 4 === 3) {
          const answer = await s3.send(new DeleteObjectCommand({Bucket: 'versions', Key: key}))
          done.push({versionId: answer.VersionId as string, marker: true})
        } else {
          const body = `${key}#${n}:${'v'.repeat((n * 37) % 3000)}`
          const answer = await s3.send(new PutObjectCommand({Bucket: 'versions', Key: key, Body: body}))
          done.push({versionId: answer.VersionId as string, marker: false, sha: sha256(body)})
        }
        total++
      } catch {
        return
      }
    }
  })
  while (total < 300) await sleep(5)
  await kill(first.child)
  stop = true
  await Promise.all(workers)

  const second = await spawnEmulator(stateDir)
  try {
    const again = clientFor(second.endpoint)
    const listed = new Map<string, {versionId: string; marker: boolean}[]>()
    let page: ListObjectVersionsCommandOutput | undefined
    do {
      page = await again.send(
        new ListObjectVersionsCommand({Bucket: 'versions', KeyMarker: page?.NextKeyMarker, VersionIdMarker: page?.NextVersionIdMarker}),
      )
      const entries = [
        ...(page.Versions ?? []).map((v) => ({key: v.Key as string, versionId: v.VersionId as string, marker: false})),
        ...(page.DeleteMarkers ?? []).map((m) => ({key: m.Key as string, versionId: m.VersionId as string, marker: true})),
      ]
      for (const entry of entries) {
        const list = listed.get(entry.key) ?? []
        list.push(entry)
        listed.set(entry.key, list)
      }
    } while (page.IsTruncated)
    let versions = 0
    for (const [key, ops] of acknowledged) {
      const answer = await again.send(new ListObjectVersionsCommand({Bucket: 'versions', Prefix: key}))
      const all = listed.get(key) ?? []
      const ids = new Set(all.map((entry) => entry.versionId))
      for (const op of ops)
        t.true(ids.has(op.versionId), `${key}: acknowledged ${op.marker ? 'delete marker' : 'version'} ${op.versionId} survives`)
      t.true(all.length <= ops.length + 1, `${key}: at most one unacknowledged commit beyond what was acknowledged`)
      // The newest acknowledged operation decides what the key shows now (unless one more committed unacknowledged).
      const latest = [...(answer.Versions ?? []), ...(answer.DeleteMarkers ?? [])].find((v) => v.IsLatest)
      const last = ops.at(-1)
      if (last && all.length === ops.length)
        t.is(latest?.VersionId, last.versionId, `${key}: the last acknowledged operation is the latest`)
      for (const op of ops) {
        if (op.marker) continue
        const body = await (
          await again.send(new GetObjectCommand({Bucket: 'versions', Key: key, VersionId: op.versionId}))
        ).Body?.transformToString()
        t.is(sha256(body as string), op.sha as string, `${key} ${op.versionId}`)
        versions++
      }
    }
    // Order: ListObjectVersions lists versions and markers apart, so remove the newest version again and again
    // and watch the one acknowledged before it become the latest.
    for (const [key, ops] of acknowledged) {
      const all = listed.get(key) ?? []
      if (all.length !== ops.length) continue
      for (let i = ops.length - 1; i > 0; i--) {
        const current = ops[i] as Op
        await again.send(new DeleteObjectCommand({Bucket: 'versions', Key: key, VersionId: current.versionId}))
        const now = await again.send(new ListObjectVersionsCommand({Bucket: 'versions', Prefix: key}))
        const latest = [...(now.Versions ?? []), ...(now.DeleteMarkers ?? [])].find((v) => v.IsLatest && v.Key === key)
        t.is(latest?.VersionId, (ops[i - 1] as Op).versionId, `${key}: version order after removing ${current.versionId}`)
      }
    }
    t.log(`${total} acknowledged operations, ${versions} versions checked byte-exact after restart`)
  } finally {
    await kill(second.child)
  }
})
