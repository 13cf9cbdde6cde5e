/**
 * ncap's stand-in for the AWS CLI inside an instance on a host without one: the
 * commands pipeline scripts use, with the AWS CLI's arguments and output lines.
 *
 *   aws s3 cp SRC DST [--recursive] [--quiet]    (files, folders, `-` for stdin/stdout)
 *   aws s3 ls [s3://BUCKET[/PREFIX]] [--recursive]
 *   aws s3 sync SRC DST [--delete]               (folder ↔ s3://BUCKET/PREFIX)
 *   aws s3 rm s3://BUCKET/KEY [--recursive]
 *   aws sts get-caller-identity
 *
 * It reaches the emulator at --endpoint-url or AWS_ENDPOINT_URL and finds its
 * credentials as the SDK does (the environment, then the instance's metadata
 * endpoint). Anything else is refused by name with exit code 252, as the CLI
 * does for an unknown command.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdir, readdir, rm, stat} from 'node:fs/promises'
import {dirname, join, relative, resolve, sep} from 'node:path'
import {pipeline} from 'node:stream/promises'

interface Options {
  positional: string[]
  recursive: boolean
  quiet: boolean
  delete: boolean
  region: string
  endpoint?: string
  output: string
}

function parse(argv: string[]): Options {
  const options: Options = {
    positional: [],
    recursive: false,
    quiet: false,
    delete: false,
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: process.env.AWS_ENDPOINT_URL,
    output: 'json',
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = () => inline ?? argv[++i] ?? ''
    switch (flag) {
      case '--recursive':
        options.recursive = true
        break
      case '--quiet':
      case '--only-show-errors':
      case '--no-progress':
        options.quiet = true
        break
      case '--delete':
        options.delete = true
        break
      case '--region':
        options.region = value()
        break
      case '--endpoint-url':
        options.endpoint = value()
        break
      case '--output':
        options.output = value()
        break
      case '--profile':
      case '--content-type':
      case '--acl':
      case '--sse':
      case '--storage-class':
        value()
        break
      case '--no-cli-pager':
      case '--no-verify-ssl':
      case '--no-sign-request':
        break
      default:
        if (flag.startsWith('--')) throw new Usage(`Unknown options: ${arg} (the ncap stand-in for the AWS CLI does not take it)`)
        options.positional.push(arg)
    }
  }
  return options
}

class Usage extends Error {}

const isS3 = (path: string) => path.startsWith('s3://')
function splitS3(uri: string): {bucket: string; key: string} {
  const rest = uri.slice(5)
  const slash = rest.indexOf('/')
  return slash === -1 ? {bucket: rest, key: ''} : {bucket: rest.slice(0, slash), key: rest.slice(slash + 1)}
}

async function clients(options: Options) {
  const {S3Client} = await import('@aws-sdk/client-s3')
  return new S3Client({region: options.region, forcePathStyle: true, ...(options.endpoint ? {endpoint: options.endpoint} : {})})
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(path)
    else if (entry.isFile()) yield path
  }
}

async function listKeys(s3: import('@aws-sdk/client-s3').S3Client, bucket: string, prefix: string) {
  const {ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  const out: {Key: string; Size: number; LastModified?: Date}[] = []
  let token: string | undefined
  do {
    const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ContinuationToken: token}))
    for (const object of page.Contents ?? []) out.push({Key: object.Key!, Size: object.Size ?? 0, LastModified: object.LastModified})
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return out
}

const say = (options: Options, line: string) => {
  if (!options.quiet) process.stdout.write(`${line}\n`)
}

async function upload(s3: import('@aws-sdk/client-s3').S3Client, file: string, bucket: string, key: string) {
  const {PutObjectCommand} = await import('@aws-sdk/client-s3')
  const size = (await stat(file)).size
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size}))
}

async function download(s3: import('@aws-sdk/client-s3').S3Client, bucket: string, key: string, file: string) {
  const {GetObjectCommand} = await import('@aws-sdk/client-s3')
  const object = await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))
  await mkdir(dirname(file), {recursive: true})
  await pipeline(object.Body as NodeJS.ReadableStream, createWriteStream(file))
}

const localTarget = async (dest: string, name: string) => {
  const isDir =
    dest.endsWith('/') ||
    dest.endsWith(sep) ||
    (await stat(dest).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  return isDir ? join(dest, name) : dest
}

async function cp(options: Options): Promise<void> {
  const [src, dest] = options.positional
  if (!src || !dest) throw new Usage('usage: aws s3 cp <LocalPath> <S3Uri> or <S3Uri> <LocalPath> or <S3Uri> <S3Uri>')
  const s3 = await clients(options)
  const {PutObjectCommand, GetObjectCommand, CopyObjectCommand} = await import('@aws-sdk/client-s3')
  if (src === '-' && isS3(dest)) {
    const {bucket, key} = splitS3(dest)
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    await s3.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: Buffer.concat(chunks)}))
    return
  }
  if (isS3(src) && dest === '-') {
    const {bucket, key} = splitS3(src)
    const object = await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))
    // Never end stdout: it may be a socket shared with the calling shell, and ending it shuts writing for them all.
    const body = object.Body as NodeJS.ReadableStream
    await new Promise<void>((done, fail) => {
      body.once('error', fail)
      body.once('end', () => done())
      body.pipe(process.stdout, {end: false})
    })
    return
  }
  if (!isS3(src) && isS3(dest)) {
    const {bucket, key} = splitS3(dest)
    if (options.recursive) {
      const root = resolve(src)
      for await (const file of walk(root)) {
        const rel = relative(root, file).split(sep).join('/')
        const target = key && !key.endsWith('/') ? `${key}/${rel}` : `${key}${rel}`
        await upload(s3, file, bucket, target)
        say(options, `upload: ${join(src, rel)} to s3://${bucket}/${target}`)
      }
      return
    }
    const name = src.split(sep).at(-1)!
    const target = !key || key.endsWith('/') ? `${key}${name}` : key
    await upload(s3, src, bucket, target)
    say(options, `upload: ${src} to s3://${bucket}/${target}`)
    return
  }
  if (isS3(src) && !isS3(dest)) {
    const {bucket, key} = splitS3(src)
    if (options.recursive) {
      const prefix = key && !key.endsWith('/') ? `${key}/` : key
      for (const object of await listKeys(s3, bucket, prefix)) {
        if (object.Key.endsWith('/')) continue
        const file = join(dest, ...object.Key.slice(prefix.length).split('/'))
        await download(s3, bucket, object.Key, file)
        say(options, `download: s3://${bucket}/${object.Key} to ${file}`)
      }
      return
    }
    const file = await localTarget(dest, key.split('/').at(-1)!)
    await download(s3, bucket, key, file)
    say(options, `download: s3://${bucket}/${key} to ${file}`)
    return
  }
  if (isS3(src) && isS3(dest)) {
    const from = splitS3(src)
    const to = splitS3(dest)
    const keys = options.recursive ? (await listKeys(s3, from.bucket, from.key)).map((o) => o.Key) : [from.key]
    for (const key of keys) {
      const target = options.recursive
        ? `${to.key.replace(/\/?$/, '/')}${key.slice(from.key.length).replace(/^\//, '')}`
        : to.key.endsWith('/') || !to.key
          ? `${to.key}${key.split('/').at(-1)}`
          : to.key
      await s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: target,
          CopySource: `${from.bucket}/${encodeURIComponent(key).replaceAll('%2F', '/')}`,
        }),
      )
      say(options, `copy: s3://${from.bucket}/${key} to s3://${to.bucket}/${target}`)
    }
    return
  }
  throw new Usage('Error: Invalid argument type: neither path is an S3 URI')
}

const stamp = (date: Date | undefined) => {
  const d = date ?? new Date(0)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

async function ls(options: Options): Promise<void> {
  const s3 = await clients(options)
  const {ListBucketsCommand, ListObjectsV2Command} = await import('@aws-sdk/client-s3')
  const target = options.positional[0]
  if (!target || target === 's3://') {
    const {Buckets} = await s3.send(new ListBucketsCommand({}))
    for (const bucket of Buckets ?? []) process.stdout.write(`${stamp(bucket.CreationDate)} ${bucket.Name}\n`)
    return
  }
  const {bucket, key} = splitS3(target)
  if (options.recursive) {
    for (const object of await listKeys(s3, bucket, key)) {
      process.stdout.write(`${stamp(object.LastModified)} ${String(object.Size).padStart(10)} ${object.Key}\n`)
    }
    return
  }
  let token: string | undefined
  let any = false
  do {
    const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: key, Delimiter: '/', ContinuationToken: token}))
    for (const prefix of page.CommonPrefixes ?? []) {
      any = true
      process.stdout.write(`${' '.repeat(27)}PRE ${prefix.Prefix!.slice(key.lastIndexOf('/') + 1)}\n`)
    }
    for (const object of page.Contents ?? []) {
      any = true
      process.stdout.write(
        `${stamp(object.LastModified)} ${String(object.Size ?? 0).padStart(10)} ${object.Key!.slice(key.lastIndexOf('/') + 1)}\n`,
      )
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  if (!any && key) process.exitCode = 1
}

async function sync(options: Options): Promise<void> {
  const [src, dest] = options.positional
  if (!src || !dest) throw new Usage('usage: aws s3 sync <LocalPath> <S3Uri> or <S3Uri> <LocalPath>')
  const s3 = await clients(options)
  const {DeleteObjectCommand} = await import('@aws-sdk/client-s3')
  if (!isS3(src) && isS3(dest)) {
    const {bucket, key} = splitS3(dest)
    const prefix = key && !key.endsWith('/') ? `${key}/` : key
    const remote = new Map((await listKeys(s3, bucket, prefix)).map((o) => [o.Key, o]))
    const root = resolve(src)
    const seen = new Set<string>()
    for await (const file of walk(root)) {
      const target = `${prefix}${relative(root, file).split(sep).join('/')}`
      seen.add(target)
      const info = await stat(file)
      const there = remote.get(target)
      if (there && there.Size === info.size && (there.LastModified?.getTime() ?? 0) >= info.mtimeMs - 1000) continue
      await upload(s3, file, bucket, target)
      say(options, `upload: ${file} to s3://${bucket}/${target}`)
    }
    if (options.delete) {
      for (const key of remote.keys()) {
        if (seen.has(key)) continue
        await s3.send(new DeleteObjectCommand({Bucket: bucket, Key: key}))
        say(options, `delete: s3://${bucket}/${key}`)
      }
    }
    return
  }
  if (isS3(src) && !isS3(dest)) {
    const {bucket, key} = splitS3(src)
    const prefix = key && !key.endsWith('/') ? `${key}/` : key
    const seen = new Set<string>()
    for (const object of await listKeys(s3, bucket, prefix)) {
      if (object.Key.endsWith('/')) continue
      const file = join(dest, ...object.Key.slice(prefix.length).split('/'))
      seen.add(resolve(file))
      const info = await stat(file).catch(() => undefined)
      if (info && info.size === object.Size && info.mtimeMs >= (object.LastModified?.getTime() ?? 0) - 1000) continue
      await download(s3, bucket, object.Key, file)
      say(options, `download: s3://${bucket}/${object.Key} to ${file}`)
    }
    if (options.delete) {
      const root = resolve(dest)
      for await (const file of walk(root)) {
        if (seen.has(file)) continue
        await rm(file, {force: true})
        say(options, `delete: ${file}`)
      }
    }
    return
  }
  throw new Usage('the ncap stand-in syncs a local folder with an S3 prefix, either way')
}

async function remove(options: Options): Promise<void> {
  const [target] = options.positional
  if (!target || !isS3(target)) throw new Usage('usage: aws s3 rm <S3Uri> [--recursive]')
  const s3 = await clients(options)
  const {DeleteObjectCommand} = await import('@aws-sdk/client-s3')
  const {bucket, key} = splitS3(target)
  const keys = options.recursive ? (await listKeys(s3, bucket, key)).map((o) => o.Key) : [key]
  for (const each of keys) {
    await s3.send(new DeleteObjectCommand({Bucket: bucket, Key: each}))
    say(options, `delete: s3://${bucket}/${each}`)
  }
}

async function callerIdentity(options: Options): Promise<void> {
  const {STSClient, GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
  const sts = new STSClient({region: options.region, ...(options.endpoint ? {endpoint: options.endpoint} : {})})
  const {UserId, Account, Arn} = await sts.send(new GetCallerIdentityCommand({}))
  if (options.output === 'text') process.stdout.write(`${Account}\t${Arn}\t${UserId}\n`)
  else process.stdout.write(`${JSON.stringify({UserId, Account, Arn}, null, 4)}\n`)
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--version')) {
    process.stdout.write('aws-cli/ncap-standin (Node) — s3 cp/ls/sync/rm, sts get-caller-identity\n')
    return 0
  }
  const options = parse(argv)
  const [service, command] = options.positional.splice(0, 2)
  const run =
    service === 's3'
      ? {cp, ls, sync, rm: remove}[command ?? '']
      : service === 'sts' && command === 'get-caller-identity'
        ? callerIdentity
        : undefined
  if (!run) {
    process.stderr.write(
      `aws: the ncap stand-in for the AWS CLI does not serve "${[service, command].filter(Boolean).join(' ')}": it serves s3 cp, s3 ls, s3 sync, s3 rm and sts get-caller-identity (install the AWS CLI for the rest).\n`,
    )
    return 252
  }
  await run(options)
  return typeof process.exitCode === 'number' ? process.exitCode : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof Usage) {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 252
      return
    }
    const named = error as {name?: string; message?: string; $metadata?: {httpStatusCode?: number}}
    process.stderr.write(`An error occurred (${named.name ?? 'Error'}) when calling the operation: ${named.message ?? String(error)}\n`)
    process.exitCode = 1
  },
)
