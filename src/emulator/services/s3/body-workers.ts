/**
 * Large bodies are hashed off the main thread. MD5 (the ETag) is inherently serial and
 * costs about 3 s per GiB here, so one thread caps every upload near 300 MiB/s and leaves
 * nothing for the sockets; parts of a multipart upload arrive in parallel, so a few worker
 * threads (one per core) hash them side by side. The main thread gathers the socket's chunks
 * into slabs of shared memory, writes each slab to the file (libuv's thread pool) and hands
 * the same slab to a worker to hash: a write that blocks in the kernel (a journal commit, a
 * page under writeback) never stalls the hashing, nor the other way round. A slab is used
 * again once both are done with it.
 *
 * The worker is plain JavaScript evaluated from a string, so it runs the same under tsc's
 * output and under tsx (a worker thread does not inherit tsx's loader), and uses only Node's
 * own MD5, CRC32 (zlib), SHA-1 and SHA-256; the JavaScript checksums (CRC32C, CRC64NVME)
 * stay on the main thread (see BodyHasher.offload).
 */
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import type {ChecksumAlgorithm, Checksums} from './checksums.js'

/** What a worker computes natively; the rest of a body's checksums stay on the main thread. */
export const WORKER_ALGORITHMS: ReadonlySet<ChecksumAlgorithm> = new Set(['CRC32', 'SHA1', 'SHA256'])

const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {createHash} = require('node:crypto')
const {crc32} = require('node:zlib')
const sessions = new Map()
function digestOf(algorithm) {
  if (algorithm === 'CRC32') {
    let value = 0
    return {update: (b) => { value = crc32(b, value) }, digest: () => { const out = Buffer.alloc(4); out.writeUInt32BE(value >>> 0); return out }}
  }
  const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256')
  return {update: (b) => hash.update(b), digest: () => hash.digest()}
}
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    sessions.set(m.id, {md5: createHash('md5'), digests: m.algorithms.map((a) => [a, digestOf(a)])})
    return
  }
  const s = sessions.get(m.id)
  if (m.op === 'data') {
    const bytes = Buffer.from(m.data, 0, m.length)
    s.md5.update(bytes)
    for (const [, d] of s.digests) d.update(bytes)
    parentPort.postMessage({id: m.id})
    return
  }
  sessions.delete(m.id)
  if (m.op === 'drop') return
  const checksums = {}
  for (const [a, d] of s.digests) checksums[a] = d.digest().toString('base64')
  const md5 = s.md5.digest()
  parentPort.postMessage({id: m.id, md5: md5.buffer.slice(md5.byteOffset, md5.byteOffset + md5.length), checksums})
})
`

type Reply = {id: number; md5?: ArrayBuffer; checksums?: Checksums}

export interface WorkerDigests {
  md5: Buffer
  checksums: Checksums
}

/** The unit a body is cut into: one disk write and one message to a worker. */
export const SLAB_BYTES = 1024 * 1024
/**
 * Slabs are used again: a fresh megabyte per slab would cost a page fault per 4 KiB and
 * garbage to collect, several times the copy itself.
 */
const spare: SharedArrayBuffer[] = []
const MAX_SPARE = 16

/** A slab of shared memory (its bytes are whatever a previous body left: the caller overwrites what it uses). */
export function takeSlab(): Buffer {
  return Buffer.from(spare.pop() ?? new SharedArrayBuffer(SLAB_BYTES))
}

/** Gives a slab back once nothing (no write, no worker) reads it any more. */
export function releaseSlab(slab: Buffer): void {
  if (spare.length < MAX_SPARE && slab.buffer instanceof SharedArrayBuffer && slab.buffer.byteLength === SLAB_BYTES) spare.push(slab.buffer)
}

class PoolWorker {
  readonly worker: Worker
  readonly sessions = new Map<number, WorkerSession>()
  dead: Error | undefined

  /** Whether the thread started: one that dies before it does will not start next time either. */
  online = false

  constructor(onExit: (self: PoolWorker) => void) {
    // None of the process's flags: under `node --input-type=module -e` or tsx they would make the source a module, or load tsx.
    this.worker = new Worker(WORKER_SOURCE, {eval: true, execArgv: []})
    this.worker.once('online', () => {
      this.online = true
    })
    this.worker.on('message', (reply: Reply) => this.sessions.get(reply.id)?.receive(reply))
    const fail = (error: Error) => {
      if (this.dead) return
      this.dead = error
      onExit(this)
      for (const session of this.sessions.values()) session.fail(error)
      this.sessions.clear()
    }
    this.worker.on('error', fail)
    this.worker.on('exit', (code) => fail(new Error(`an S3 body worker exited (code ${code})`)))
    // After the listeners (a 'message' listener refs the worker's port again): an idle worker keeps no process up.
    this.worker.unref()
  }

  /** A busy worker keeps the process up (a body may wait on nothing but its answer); an idle one does not. */
  add(session: WorkerSession): void {
    if (this.sessions.size === 0 && !this.dead) this.worker.ref()
    this.sessions.set(session.id, session)
  }

  remove(id: number): void {
    if (this.sessions.delete(id) && this.sessions.size === 0 && !this.dead) this.worker.unref()
  }
}

interface Pending<T> {
  done: (value: T) => void
  fail: (error: Error) => void
}

/** One body's hashing in a worker: hash() slabs in order, then finish() (or drop()). */
export class WorkerSession {
  /** Slabs sent and not yet hashed, oldest first: the worker answers in order. */
  private readonly hashing: Pending<void>[] = []
  private result: Pending<WorkerDigests> | undefined
  private ended = false

  constructor(
    private readonly owner: PoolWorker,
    readonly id: number,
  ) {}

  receive(reply: Reply): void {
    if (reply.md5 === undefined) {
      this.hashing.shift()?.done()
      return
    }
    this.owner.remove(this.id)
    this.result?.done({md5: Buffer.from(reply.md5), checksums: reply.checksums ?? {}})
  }

  fail(error: Error): void {
    for (const pending of this.hashing.splice(0)) pending.fail(error)
    this.result?.fail(error)
  }

  /** Hashes the first `length` bytes of a slab from takeSlab(); settles once the worker no longer reads it. */
  hash(slab: Buffer, length: number): Promise<void> {
    if (this.ended) return Promise.reject(new Error('hash() after the session ended'))
    if (this.owner.dead) return Promise.reject(this.owner.dead)
    if (!(slab.buffer instanceof SharedArrayBuffer) || slab.byteOffset !== 0 || length > slab.buffer.byteLength)
      return Promise.reject(new Error('not a worker slab'))
    return new Promise<void>((done, fail) => {
      this.hashing.push({done, fail})
      this.owner.worker.postMessage({op: 'data', id: this.id, data: slab.buffer, length})
    })
  }

  /** The MD5 and the worker's checksums of every slab hashed. */
  finish(): Promise<WorkerDigests> {
    if (this.ended) return Promise.reject(new Error('the session already ended'))
    this.ended = true
    if (this.owner.dead) return Promise.reject(this.owner.dead)
    return new Promise<WorkerDigests>((done, fail) => {
      this.result = {done, fail}
      this.owner.worker.postMessage({op: 'end', id: this.id})
    })
  }

  /**
   * Forgets the body (it failed): the worker drops its hashes, and what is still waiting for one
   * fails now. The worker may still read those slabs: they must not be used again (a failed
   * body never releases its slabs).
   */
  drop(): void {
    if (this.ended) return
    this.ended = true
    this.owner.remove(this.id)
    if (!this.owner.dead) this.owner.worker.postMessage({op: 'drop', id: this.id})
    const dropped = new Error('the body was dropped')
    for (const pending of this.hashing.splice(0)) pending.fail(dropped)
  }
}

/** The pool: started on the first large body, one worker per core (at most 4), each unref'd so none keeps the process up. */
export class BodyWorkers {
  private readonly workers: PoolWorker[] = []
  private nextId = 0
  private readonly size: number
  /** A worker died before starting: workers cannot run here, and bodies are hashed on the main thread. */
  broken = false

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.size = size
  }

  /**
   * A session hashing MD5 plus the algorithms `handOver` returns (each in WORKER_ALGORITHMS),
   * called once a worker is there: if none can start, this throws first.
   */
  open(handOver: () => readonly ChecksumAlgorithm[]): WorkerSession {
    // The least busy worker; a new one while every worker is busy and the pool has room.
    let chosen: PoolWorker | undefined
    for (const candidate of this.workers) if (!chosen || candidate.sessions.size < chosen.sessions.size) chosen = candidate
    if (!chosen || (chosen.sessions.size > 0 && this.workers.length < this.size)) {
      chosen = new PoolWorker((dead) => {
        const at = this.workers.indexOf(dead)
        if (at >= 0) this.workers.splice(at, 1)
        if (!dead.online) this.broken = true
      })
      this.workers.push(chosen)
    }
    const session = new WorkerSession(chosen, ++this.nextId)
    chosen.add(session)
    chosen.worker.postMessage({op: 'open', id: session.id, algorithms: handOver()})
    return session
  }

  /** Ends the workers (tests, and a server that closes). */
  async close(): Promise<void> {
    const workers = this.workers.splice(0)
    await Promise.all(workers.map((w) => w.worker.terminate()))
  }
}
