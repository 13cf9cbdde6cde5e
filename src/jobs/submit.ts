/**
 * `ncap submit`: a lab member's job in one command — the data and the config
 * uploaded into the group's folders (what is already there with the same
 * content is not sent again), then `submit.json`, whose upload starts the job.
 * Done as a user of the group, so the user's IAM policy decides what is allowed.
 */
import {existsSync} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {basename, join, relative, resolve, sep} from 'node:path'
import {jobId as makeJobId} from '../../lambda_repo/lib/layout.js'
import {NcapError, UsageError} from '../errors.js'
import {type Actor, actAs, chooseGroup, deniedAs, type JobContext, type JobFlags, jobContext} from './context.js'
import {type Progress, sameContent, uploadFile} from './transfer.js'

export interface SubmitRequest extends JobFlags {
  items: string[]
  config?: string
  'instance-type'?: string
  progress?: Progress
  onFile?: (line: string) => void
  signal?: AbortSignal
}

export interface SubmittedFile {
  file?: string
  key: string
  bytes?: number
  sent: boolean
}

export interface SubmitResult {
  jobId: string
  group: string
  as: string
  submitKey: string
  datasets: string[]
  config: string
  files: SubmittedFile[]
  ctx: JobContext
}

/** Local files (and the files of local folders) to send, each with its key; keys named directly are kept. */
async function planItems(
  ctx: JobContext,
  group: string,
  items: string[],
): Promise<{datasets: string[]; uploads: {file: string; key: string}[]; keys: string[]}> {
  const inDir = ctx.pipeline.instance.inDir
  const datasets: string[] = []
  const uploads: {file: string; key: string}[] = []
  const keys: string[] = []
  for (const item of items) {
    const local = resolve(item)
    const info = await stat(local).catch(() => undefined)
    if (info?.isFile()) {
      const key = `${group}/${inDir}/${basename(local)}`
      uploads.push({file: local, key})
      datasets.push(key)
    } else if (info?.isDirectory()) {
      const folderKey = `${group}/${inDir}/${basename(local)}/`
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, {withFileTypes: true})) {
          const path = join(dir, entry.name)
          if (entry.isDirectory()) await walk(path)
          else if (entry.isFile()) uploads.push({file: path, key: folderKey + relative(local, path).split(sep).join('/')})
        }
      }
      await walk(local)
      datasets.push(folderKey)
    } else if (item.includes('/') && !item.startsWith('.') && !item.startsWith('/')) {
      // A key already in the bucket: the group's own, as the submit handler requires.
      if (!item.startsWith(`${group}/`)) throw new UsageError(`${item} is not in group ${group}'s folder (${group}/…)`)
      keys.push(item)
      datasets.push(item)
    } else {
      throw new UsageError(`${item}: no such file or folder (and not a key in the bucket such as ${group}/${inDir}/${basename(item)})`)
    }
  }
  if (datasets.length === 0) throw new UsageError('name at least one dataset: a file, a folder, or a key in the bucket')
  return {datasets, uploads, keys}
}

async function keyExists(actor: Actor, bucket: string, key: string): Promise<boolean> {
  const {HeadObjectCommand, ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  if (key.endsWith('/')) {
    const listed = await actor.s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: key, MaxKeys: 2}))
    return (listed.Contents ?? []).some((o) => o.Key !== key)
  }
  try {
    await actor.s3.send(new HeadObjectCommand({Bucket: bucket, Key: key}))
    return true
  } catch (error) {
    if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404) return false
    throw error
  }
}

/** A job timestamp: sortable, unique enough, in the characters the submit file allows. */
export function newTimestamp(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-')
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`
}

export async function submitJob(request: SubmitRequest): Promise<SubmitResult> {
  const ctx = await jobContext(request)
  const group = chooseGroup(ctx.pipeline, request.group)
  const actor = await actAs(ctx, group, request)
  const {datasets, uploads, keys} = await planItems(ctx, group.name, request.items)
  // The config: a local file (default: the pipeline's configs/config.yaml) or a key in the group's configs/.
  const configArg = request.config ?? join(ctx.configDir, 'configs', ctx.pipeline.instance.config)
  let configKey: string
  const configFile = resolve(configArg)
  if (existsSync(configFile)) {
    configKey = `${group.name}/configs/${basename(configFile)}`
    uploads.push({file: configFile, key: configKey})
  } else if (request.config?.includes('/')) {
    configKey = request.config
    keys.push(configKey)
  } else {
    throw new UsageError(
      request.config
        ? `--config ${request.config}: no such file (and not a key in the bucket)`
        : `no config to send: ${configFile} does not exist; give one with --config FILE or --config ${group.name}/configs/NAME`,
    )
  }
  const files: SubmittedFile[] = []
  for (const key of keys) {
    const present = await keyExists(actor, ctx.bucket, key).catch((error) => {
      throw deniedAs(error, actor, `read ${key}`)
    })
    if (!present)
      throw new NcapError(`s3://${ctx.bucket}/${key} does not exist: upload it first or name a local file`, {
        code: 'NoSuchKey',
        exitCode: 2,
      })
    files.push({key, sent: false})
  }
  for (const {file, key} of uploads) {
    const {size} = await stat(file)
    const same = await sameContent(actor.s3, ctx.bucket, key, file).catch((error) => {
      // A user may not be allowed to read their inputs back (ncap's policy lets them put and list): then send.
      if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 403) return false
      throw error
    })
    if (same) {
      request.onFile?.(`${key}: already there with the same content, not sent`)
      files.push({file, key, bytes: size, sent: false})
      continue
    }
    await uploadFile(actor.s3, ctx.bucket, key, file, {progress: request.progress, signal: request.signal}).catch((error) => {
      throw deniedAs(error, actor, `upload into s3://${ctx.bucket}/${key}`)
    })
    request.onFile?.(`${key}: sent (${size} bytes)`)
    files.push({file, key, bytes: size, sent: true})
  }
  const timestamp = newTimestamp()
  const submit = {
    dataname: datasets.length === 1 ? datasets[0] : datasets,
    configname: configKey,
    timestamp,
    ...(request['instance-type'] ? {instance_type: request['instance-type']} : {}),
  }
  const submitKey = `${group.name}/submissions/${timestamp}_submit.json`
  const {PutObjectCommand} = await import('@aws-sdk/client-s3')
  await actor.s3
    .send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: submitKey,
        Body: `${JSON.stringify(submit, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    )
    .catch((error) => {
      throw deniedAs(error, actor, `submit into group ${group.name} (s3://${ctx.bucket}/${submitKey})`)
    })
  return {jobId: makeJobId(ctx.bucket, timestamp), group: group.name, as: actor.label, submitKey, datasets, config: configKey, files, ctx}
}
