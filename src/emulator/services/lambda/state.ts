/**
 * Lambda's state (no HTTP here): functions by region and name, their code
 * (each revision's zip and its unpacked folder), resource policies and tags,
 * kept durably under `${stateDir}/lambda/` (mode 0600: environment variables may hold secrets):
 *   functions.json               every function's configuration and policy
 *   code/<region>/<name>/<sha>/  the unpacked code of one revision (LAMBDA_TASK_ROOT)
 *   code/<region>/<name>/<sha>.zip
 */
import {createHash, randomUUID} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {chmod, mkdir, rm, stat, writeFile} from 'node:fs/promises'
import {dirname, join, resolve, sep} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {readJsonIfExists, writeJsonAtomic} from '../../../store/atomic.js'
import {ACCOUNT_ID} from '../../types.js'
import {functionNotFound, invalidParameter, resourceNotFound, validation} from './errors.js'
import type {PolicyStatement} from './policy.js'

export interface FunctionRecord {
  region: string
  FunctionName: string
  Runtime: string
  Role: string
  Handler: string
  Description: string
  Timeout: number
  MemorySize: number
  Variables: Record<string, string>
  CodeSha256: string
  CodeSize: number
  /** The hex sha256 naming the revision's folder and zip. */
  codeKey: string
  LastModified: string
  RevisionId: string
  State: 'Pending' | 'Active' | 'Inactive' | 'Failed'
  LastUpdateStatus: 'Successful' | 'Failed' | 'InProgress'
  Architectures: string[]
  EphemeralStorage: number
  TracingMode: string
  LogFormat: string
  LogGroup?: string
  Tags: Record<string, string>
  Policy: PolicyStatement[]
  PolicyRevisionId: string
}

interface LambdaData {
  functions: Record<string, FunctionRecord>
}

const NAME = /^[a-zA-Z0-9-_]{1,64}$/
/** name, name:qualifier, 123456789012:function:name[:q], arn:aws:lambda:region:123456789012:function:name[:q] */
const ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/
const PARTIAL = /^(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/
const PLAIN = /^([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/

export interface FunctionRef {
  region: string
  name: string
  qualifier?: string
}

/** Splits a FunctionName member (name, ARN or partial ARN) into its parts; refuses what is none of them. */
export function parseFunctionName(input: unknown, region: string, member = 'functionName'): FunctionRef {
  if (typeof input !== 'string' || input.length === 0 || input.length > 170)
    throw validation(member, input, 'Member must have length less than or equal to 170 and greater than or equal to 1')
  let match = ARN.exec(input)
  if (match) return {region: match[1]!, name: match[3]!, ...(match[4] ? {qualifier: match[4]} : {})}
  match = PARTIAL.exec(input)
  if (match) return {region, name: match[2]!, ...(match[3] ? {qualifier: match[3]} : {})}
  match = PLAIN.exec(input)
  if (match && match[1]!.length <= 64) return {region, name: match[1]!, ...(match[2] ? {qualifier: match[2]} : {})}
  throw validation(
    member,
    input,
    'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
  )
}

export const functionArnOf = (region: string, name: string) => `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`

/** Lambda's LastModified: 2026-12-01T08:00:00.000+0000. */
export const lastModified = (now: number) => new Date(now).toISOString().replace('Z', '+0000')

const keyOf = (region: string, name: string) => `${region}/${name}`

export class LambdaState {
  private writing: Promise<void> = Promise.resolve()

  private constructor(
    readonly dir: string,
    readonly data: LambdaData,
  ) {}

  static async open(stateDir: string): Promise<LambdaState> {
    const dir = join(stateDir, 'lambda')
    const loaded = await readJsonIfExists<LambdaData>(join(dir, 'functions.json'))
    return new LambdaState(dir, {functions: loaded?.functions ?? {}})
  }

  save(): Promise<void> {
    const next = this.writing.then(() => writeJsonAtomic(join(this.dir, 'functions.json'), this.data, 0o600))
    this.writing = next.catch(() => undefined)
    return next
  }

  flush(): Promise<void> {
    return this.writing
  }

  find(region: string, name: string): FunctionRecord | undefined {
    return this.data.functions[keyOf(region, name)]
  }

  /** The function a FunctionName member names; only $LATEST is served as a qualifier. */
  get(ref: FunctionRef): FunctionRecord {
    const record = this.find(ref.region, ref.name)
    const arn = functionArnOf(ref.region, ref.name) + (ref.qualifier ? `:${ref.qualifier}` : '')
    if (!record) throw functionNotFound(arn)
    if (ref.qualifier && ref.qualifier !== '$LATEST') throw functionNotFound(arn)
    return record
  }

  put(record: FunctionRecord): void {
    this.data.functions[keyOf(record.region, record.FunctionName)] = record
  }

  remove(record: FunctionRecord): void {
    delete this.data.functions[keyOf(record.region, record.FunctionName)]
  }

  list(region: string): FunctionRecord[] {
    return Object.values(this.data.functions)
      .filter((record) => record.region === region)
      .sort((a, b) => a.FunctionName.localeCompare(b.FunctionName))
  }

  codeFolder(record: Pick<FunctionRecord, 'region' | 'FunctionName' | 'codeKey'>): string {
    return join(this.dir, 'code', record.region, record.FunctionName, record.codeKey)
  }

  zipPath(record: Pick<FunctionRecord, 'region' | 'FunctionName' | 'codeKey'>): string {
    return `${this.codeFolder(record)}.zip`
  }

  /** Keeps a zip and unpacks it; returns what the configuration records of it. Refuses what is not a zip as AWS does. */
  async storeCode(region: string, name: string, zip: Buffer): Promise<{CodeSha256: string; CodeSize: number; codeKey: string}> {
    const digest = createHash('sha256').update(zip).digest()
    const codeKey = digest.toString('hex')
    const folder = this.codeFolder({region, FunctionName: name, codeKey})
    const done = await stat(join(folder, '.ncap-unpacked')).then(
      () => true,
      () => false,
    )
    if (!done) {
      await rm(folder, {recursive: true, force: true})
      await mkdir(folder, {recursive: true})
      try {
        await unzip(zip, folder)
      } catch (error) {
        await rm(folder, {recursive: true, force: true})
        if (error instanceof UnzipRefused) throw invalidParameter(error.message)
        throw invalidParameter('Could not unzip uploaded file. Please check your file, then try to upload again.')
      }
      await writeFile(`${folder}.zip`, zip)
      await writeFile(join(folder, '.ncap-unpacked'), '')
    }
    return {CodeSha256: digest.toString('base64'), CodeSize: zip.length, codeKey}
  }

  /** Removes a function's code folders (all revisions). */
  async dropCode(region: string, name: string): Promise<void> {
    await rm(join(this.dir, 'code', region, name), {recursive: true, force: true})
  }

  newRevision(): string {
    return randomUUID()
  }
}

class UnzipRefused extends Error {}

/** Unpacks a zip into `folder` with yauzl, keeping executable bits and refusing entries that escape the folder. */
async function unzip(zip: Buffer, folder: string): Promise<void> {
  const yauzl = (await import('yauzl')).default
  const root = resolve(folder)
  await new Promise<void>((done, fail) => {
    yauzl.fromBuffer(zip, {lazyEntries: true, strictFileNames: false}, (error, archive) => {
      if (error || !archive) {
        fail(error ?? new Error('no archive'))
        return
      }
      archive.on('error', fail)
      archive.on('end', () => done())
      archive.on('entry', (entry) => {
        const target = resolve(root, entry.fileName)
        if (target !== root && !target.startsWith(root + sep)) {
          archive.close()
          fail(
            new UnzipRefused(`Could not unzip uploaded file: the entry ${entry.fileName} would be written outside the function's folder.`),
          )
          return
        }
        if (entry.fileName.endsWith('/')) {
          mkdir(target, {recursive: true}).then(() => archive.readEntry(), fail)
          return
        }
        archive.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) {
            fail(streamError ?? new Error('no stream'))
            return
          }
          const mode = (entry.externalFileAttributes >>> 16) & 0o777
          mkdir(dirname(target), {recursive: true})
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => (mode & 0o111 ? chmod(target, mode | 0o644) : undefined))
            .then(() => archive.readEntry(), fail)
        })
      })
      archive.readEntry()
    })
  })
}

export function notFoundPolicy(): never {
  throw resourceNotFound('The resource you requested does not exist.')
}

export const isValidName = (name: string) => NAME.test(name)
