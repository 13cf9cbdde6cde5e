/**
 * Durable writes: every file the emulator keeps is written to a temporary file
 * beside its destination, fsynced, and renamed over it, so a kill at any instant
 * leaves either the old or the new content, never a mix. The folder is fsynced
 * after the rename so the rename itself survives a crash; concurrent writers in one
 * folder share those folder fsyncs (group commit, see syncFolder).
 */
import {randomBytes} from 'node:crypto'
import {close, createWriteStream, fsync, open, write, writev} from 'node:fs'
import {mkdir, readFile, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {pipeline} from 'node:stream/promises'

/*
 * Plain-fd file operations: on the per-request write path, fs/promises' FileHandle
 * objects (their promises, close tracking and GC hooks) cost more main-thread time than
 * the syscalls they wrap.
 */
const settle =
  <T>(done: (value: T) => void, fail: (error: Error) => void) =>
  (error: Error | null, value: T) =>
    error ? fail(error) : done(value)

export const openFd = (path: string, flags: string, mode = 0o644) =>
  new Promise<number>((done, fail) => open(path, flags, mode, settle(done, fail)))
export const fsyncFd = (fd: number) => new Promise<void>((done, fail) => fsync(fd, (error) => (error ? fail(error) : done())))
export const closeFd = (fd: number) => new Promise<void>((done, fail) => close(fd, (error) => (error ? fail(error) : done())))

/** Writes every byte of `buffers` at the fd's position (short writes resumed). */
export async function writeAllFd(fd: number, buffers: readonly Uint8Array[]): Promise<void> {
  let pending = buffers
  while (pending.length > 0) {
    let written =
      pending.length === 1
        ? await new Promise<number>((done, fail) => write(fd, pending[0]!, settle(done, fail)))
        : await new Promise<number>((done, fail) => writev(fd, pending as Uint8Array[], settle(done, fail)))
    const rest: Uint8Array[] = []
    for (const buffer of pending) {
      if (written >= buffer.byteLength) written -= buffer.byteLength
      else {
        rest.push(written > 0 ? buffer.subarray(written) : buffer)
        written = 0
      }
    }
    pending = rest
  }
}

/** Unique per process (random) and per call (a counter): temp and data file names need no entropy each. */
const processTag = randomBytes(8).toString('hex')
let sequence = 0

/** 24 hex digits, unique across this process's calls and (with overwhelming odds) across processes. */
export function uniqueId(): string {
  sequence = (sequence + 1) % 0x100000000
  return `${processTag}${sequence.toString(16).padStart(8, '0')}`
}

/** A temp name in the same folder (so rename is atomic), recognisable for clean-up after a crash. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.tmp-${basename(path)}-${uniqueId()}`)
}

export function isTempName(name: string): boolean {
  return name.startsWith('.tmp-')
}

async function fsyncFolderNow(dir: string): Promise<void> {
  const fd = await openFd(dir, 'r')
  try {
    await fsyncFd(fd)
  } finally {
    await closeFd(fd)
  }
}

/** Per folder: the fsync under way, and the one queued to start after it. */
const folderSyncs = new Map<string, {running?: Promise<void>; queued?: Promise<void>}>()

/**
 * Makes every change already made in `dir` (renames, new and removed names) durable.
 * Group commit: a folder fsync that starts after a caller's change covers it, so callers
 * arriving while one runs share a single fsync queued behind it, never the running one
 * (it may have started before their change). Each caller returns only once an fsync that
 * began after its call has completed, so "acknowledged means durable" holds for each.
 */
export function syncFolder(dir: string): Promise<void> {
  let folder = folderSyncs.get(dir)
  if (!folder) {
    folder = {}
    folderSyncs.set(dir, folder)
  }
  const state = folder
  const start = (): Promise<void> => {
    const run = fsyncFolderNow(dir).finally(() => {
      if (state.running === run) state.running = undefined
      if (!state.running && !state.queued) folderSyncs.delete(dir)
    })
    state.running = run
    return run
  }
  if (!state.running) return start()
  state.queued ??= state.running
    .catch(() => undefined)
    .then(() => {
      state.queued = undefined
      return start()
    })
  return state.queued
}

export interface AtomicWriteOptions {
  /** File mode of a new file (0o644). */
  mode?: number
  /** Create the folder first (true); false when the caller knows it exists, saving a syscall per write. */
  createFolder?: boolean
  /** Awaited before the rename: what the new content refers to must be durable before it is reachable. */
  ready?: Promise<void>
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number | AtomicWriteOptions = 0o644): Promise<void> {
  const options = typeof mode === 'number' ? {mode} : mode
  if (options.createFolder !== false) await mkdir(dirname(path), {recursive: true})
  const temp = tempPathFor(path)
  const fd = await openFd(temp, 'w', options.mode ?? 0o644)
  try {
    await writeAllFd(fd, [typeof data === 'string' ? Buffer.from(data, 'utf8') : data])
    await fsyncFd(fd)
  } catch (error) {
    await closeFd(fd)
    await rm(temp, {force: true})
    throw error
  }
  await closeFd(fd)
  try {
    await options.ready
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  await syncFolder(dirname(path))
}

export async function writeJsonAtomic(path: string, value: unknown, mode: number | AtomicWriteOptions = 0o644): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value)}\n`, mode)
}

export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Streams a body to `path` durably; returns once it is fsynced and renamed.
 * On any error the temporary file is removed and nothing is visible at `path`.
 * `transforms` see every byte on the way (hashing, checksums, length limits).
 */
export async function writeStreamAtomic(
  path: string,
  body: NodeJS.ReadableStream,
  transforms: NodeJS.ReadWriteStream[] = [],
): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  const temp = tempPathFor(path)
  const out = createWriteStream(temp, {flags: 'w'})
  try {
    await pipeline([body, ...transforms, out] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream])
    const fd = await openFd(temp, 'r+')
    try {
      await fsyncFd(fd)
    } finally {
      await closeFd(fd)
    }
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  await syncFolder(dirname(path))
}
