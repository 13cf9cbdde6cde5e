/**
 * Durable writes: every file the emulator keeps is written to a temporary file
 * beside its destination, fsynced, and renamed over it, so a kill at any instant
 * leaves either the old or the new content, never a mix. The folder is fsynced
 * after the rename so the rename itself survives a crash.
 */
import {randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {mkdir, open, readFile, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {pipeline} from 'node:stream/promises'

/** A temp name in the same folder (so rename is atomic), recognisable for clean-up after a crash. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`)
}

export function isTempName(name: string): boolean {
  return name.startsWith('.tmp-')
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  const temp = tempPathFor(path)
  const handle = await open(temp, 'w', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  await fsyncDir(dirname(path))
}

export async function writeJsonAtomic(path: string, value: unknown, mode = 0o644): Promise<void> {
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
    const handle = await open(temp, 'r+')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  await fsyncDir(dirname(path))
}
