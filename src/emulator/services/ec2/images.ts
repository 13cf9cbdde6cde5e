/**
 * The registry of local images: each AMI id names a folder on the host that an
 * instance launched from it runs in (its /home/ubuntu). Kept in
 * `${stateDir}/ec2/images.json`, written atomically by `ncap emulator images`
 * whether or not the emulator runs; the EC2 service re-reads it when it changes.
 */
import {createHash} from 'node:crypto'
import {statSync} from 'node:fs'
import {lstat, readdir, realpath, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'
import {UsageError} from '../../../errors.js'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'

export interface ImageRecord {
  ImageId: string
  Name: string
  /** The folder on the host, absolute and resolved. */
  Dir: string
  /** ISO time of registration. */
  CreationDate: string
  /** The folder's size in bytes when registered. */
  SizeBytes: number
  /** The root volume's size in GiB: the folder's size rounded up, at least 1. */
  RootSizeGiB: number
  /** The root volume's snapshot, as AWS names one per image. */
  SnapshotId: string
  Description?: string
}

export interface ImageRegistry {
  images: Record<string, ImageRecord>
}

export const imagesPath = (stateDir: string): string => join(stateDir, 'ec2', 'images.json')

/** ami- and 8 or 17 hex digits, as AWS writes image ids. */
export const IMAGE_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/
export const GiB = 1024 ** 3

const hex17 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 17)

/** The id an image folder gets when none is given: the same folder always gets the same id. */
export const imageIdFor = (dir: string): string => `ami-${hex17(`image:${dir}`)}`

/** The apparent size of everything under a folder (symbolic links counted as links, not followed). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0
  const pending = [dir]
  while (pending.length > 0) {
    const folder = pending.pop()!
    const entries = await readdir(folder, {withFileTypes: true})
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(folder, entry.name)
        if (entry.isDirectory()) pending.push(path)
        else total += (await lstat(path)).size
      }),
    )
  }
  return total
}

export async function readRegistry(stateDir: string): Promise<ImageRegistry> {
  const loaded = await readJsonIfExists<Partial<ImageRegistry>>(imagesPath(stateDir))
  return {images: {...(loaded?.images ?? {})}}
}

/** The registry file's modification stamp (0 when absent): the service re-reads the registry when it moves. */
export function registryStamp(stateDir: string): number {
  try {
    const info = statSync(imagesPath(stateDir))
    return info.mtimeMs * 1000 + info.size
  } catch {
    return 0
  }
}

export interface RegisterImageInput {
  dir: string
  imageId?: string
  name?: string
  description?: string
  now?: Date
}

/** Registers (or refreshes) a folder as an image; refuses an id or name already taken by another folder. */
export async function registerImage(stateDir: string, input: RegisterImageInput): Promise<ImageRecord> {
  const given = resolve(input.dir)
  const info = await stat(given).catch(() => undefined)
  if (!info?.isDirectory()) throw new UsageError(`The image folder ${given} does not exist or is not a folder.`)
  const dir = await realpath(given)
  const imageId = input.imageId ?? imageIdFor(dir)
  if (!IMAGE_ID.test(imageId))
    throw new UsageError(`Invalid image id '${imageId}': AWS image ids are ami- followed by 8 or 17 hexadecimal digits.`)
  const name = input.name ?? basename(dir)
  if (!/^[\w ()./'@-]{3,128}$/.test(name))
    throw new UsageError(`Invalid image name '${name}': 3 to 128 letters, digits, spaces and ( ) [ ] . / - ' @ _ as AWS requires.`)
  const registry = await readRegistry(stateDir)
  const existing = registry.images[imageId]
  if (existing && existing.Dir !== dir)
    throw new UsageError(`The image id ${imageId} is already registered for ${existing.Dir}.`, {
      suggestions: [`ncap emulator images remove ${imageId}`],
    })
  const sameName = Object.values(registry.images).find((image) => image.Name === name && image.ImageId !== imageId)
  if (sameName) throw new UsageError(`The image name '${name}' is already used by ${sameName.ImageId}; give another with --name.`)
  const size = await folderSize(dir)
  const record: ImageRecord = {
    ImageId: imageId,
    Name: name,
    Dir: dir,
    CreationDate: existing?.CreationDate ?? (input.now ?? new Date()).toISOString(),
    SizeBytes: size,
    RootSizeGiB: Math.max(1, Math.ceil(size / GiB)),
    SnapshotId: `snap-${hex17(`snapshot:${imageId}`)}`,
    ...(input.description ? {Description: input.description} : {}),
  }
  registry.images[imageId] = record
  await writeJsonAtomic(imagesPath(stateDir), registry)
  return record
}

export async function listImages(stateDir: string): Promise<ImageRecord[]> {
  const registry = await readRegistry(stateDir)
  return Object.values(registry.images).sort((a, b) => a.Name.localeCompare(b.Name) || a.ImageId.localeCompare(b.ImageId))
}

/** Removes an image from the registry (its folder is left alone); refuses an unknown id. */
export async function removeImage(stateDir: string, imageId: string): Promise<ImageRecord> {
  const registry = await readRegistry(stateDir)
  const record = registry.images[imageId]
  if (!record) throw new UsageError(`No image ${imageId} is registered in ${stateDir}.`, {suggestions: ['ncap emulator images list']})
  delete registry.images[imageId]
  await writeJsonAtomic(imagesPath(stateDir), registry)
  return record
}
