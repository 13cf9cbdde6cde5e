/**
 * `ncap init` as a library: answers -> a stack config and a pipeline folder.
 * Answers are checked with the config's own rules (checkPipeline) before
 * anything is written, and the folder is written so that a failure leaves it
 * as it was: files are staged beside it, then renamed into place.
 */
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {NcapError, UsageError} from '../errors.js'
import {CONFIG_FILE_NAME, checkPipeline} from './index.js'
import type {Diagnostic} from './model.js'

/** A valid-shaped AMI id that names no real image: fine on the emulator, to be replaced for AWS. */
export const PLACEHOLDER_AMI = 'ami-0123456789abcdef0'

export const INIT_DEFAULTS = {
  region: 'us-east-1',
  ami: PLACEHOLDER_AMI,
  // The placeholder analysis only hashes files: the smallest general-purpose type does.
  instanceType: 't3.micro',
  command: 'cd /home/ubuntu && bin/run.sh "{}" "{}" "{}" "{}"',
  executionTimeout: 900,
  ssmTimeout: 172000,
} as const

export interface GroupAnswer {
  name: string
  users: string[]
}

export interface InitAnswers {
  name: string
  region: string
  ami: string
  instanceType: string
  command: string
  executionTimeout: number
  ssmTimeout: number
  groups: GroupAnswer[]
  contactEmail?: string
}

export type InitFlag =
  | '--name'
  | '--region'
  | '--ami'
  | '--instance-type'
  | '--command'
  | '--execution-timeout'
  | '--ssm-timeout'
  | '--group'
  | '--contact-email'

export type JsonValue = string | number | boolean | null | JsonValue[] | {[key: string]: JsonValue}
export type StackConfigJson = {[key: string]: JsonValue}

export interface ScaffoldFile {
  /** Relative to the pipeline folder, with `/`. */
  path: string
  content: string
  executable?: boolean
}

export interface InitResult {
  dir: string
  files: string[]
  /** Files of ncap's that existed and were replaced (only with --force). */
  overwritten: string[]
  warnings: string[]
  config: StackConfigJson
}

/** The folder holding templates/ and simevents/ (the package root), from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'templates', CONFIG_FILE_NAME)) && existsSync(join(dir, 'simevents'))) return dir
    const up = dirname(dir)
    if (up === dir) throw new NcapError('ncap is installed without its templates/ and simevents/ folders', {code: 'MissingTemplates'})
    dir = up
  }
}

const PLACEHOLDER = /\{\{(\w+)\}\}/g
const WHOLE_PLACEHOLDER = /^\{\{(\w+)\}\}$/

function lookup(values: Readonly<Record<string, JsonValue>>, name: string): JsonValue {
  const value = values[name]
  if (value === undefined) throw new NcapError(`template placeholder {{${name}}} has no value`, {code: 'TemplatePlaceholder'})
  return value
}

function fillString(text: string, values: Readonly<Record<string, JsonValue>>): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(values, name)
    if (typeof value === 'object' && value !== null) {
      throw new NcapError(`template placeholder {{${name}}} holds a list or object and must be a whole JSON value`, {
        code: 'TemplatePlaceholder',
      })
    }
    return String(value)
  })
}

/**
 * Fills `{{name}}` placeholders in a parsed JSON template (an event or the stack
 * config). A string that is exactly one placeholder becomes the value itself
 * (a number, a list); elsewhere the value is spliced into the text. Keys are
 * filled too. A placeholder without a value is an error, never left behind.
 */
export function fillEvent(template: unknown, values: Readonly<Record<string, JsonValue>>): JsonValue {
  if (typeof template === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(template)
    return whole ? structuredClone(lookup(values, whole[1]!)) : fillString(template, values)
  }
  if (Array.isArray(template)) return template.map((item) => fillEvent(item, values))
  if (typeof template === 'object' && template !== null) {
    const out: {[key: string]: JsonValue} = {}
    for (const [key, item] of Object.entries(template)) out[fillString(key, values)] = fillEvent(item, values)
    return out
  }
  if (typeof template === 'number' || typeof template === 'boolean' || template === null) return template
  throw new NcapError(`a template holds a value JSON cannot: ${String(template)}`, {code: 'TemplatePlaceholder'})
}

export function formatGroup(group: GroupAnswer): string {
  return `${group.name}:${group.users.join(',')}`
}

let configTemplate: Promise<unknown> | undefined
async function loadConfigTemplate(): Promise<unknown> {
  configTemplate ??= readFile(join(packageRoot(), 'templates', CONFIG_FILE_NAME), 'utf8').then((text) => JSON.parse(text) as unknown)
  return configTemplate
}

/** The stack config the answers make, from templates/stack_config_template.json. */
export async function buildStackConfig(answers: InitAnswers): Promise<StackConfigJson> {
  const affiliates: JsonValue[] = answers.groups.map((group) => ({
    AffiliateName: group.name,
    UserNames: [...group.users],
    UserInput: true,
    ...(answers.contactEmail === undefined ? {} : {ContactEmail: answers.contactEmail}),
  }))
  const filled = fillEvent(await loadConfigTemplate(), {
    name: answers.name,
    region: answers.region,
    ami: answers.ami,
    instanceType: answers.instanceType,
    command: answers.command,
    executionTimeout: answers.executionTimeout,
    ssmTimeout: answers.ssmTimeout,
    affiliates,
  })
  return filled as StackConfigJson
}

const FLAG_BY_PATH: Array<[RegExp, InitFlag]> = [
  [/^\$\.PipelineName\b/, '--name'],
  [/^\$\.(REGION|Lambda\.LambdaConfig\.REGION)\b/, '--region'],
  [/^\$\.(Lambda\.LambdaConfig\.AMI\b|Ncap\.LocalImages)/, '--ami'],
  [/^\$\.Lambda\.LambdaConfig\.INSTANCE_TYPE\b/, '--instance-type'],
  [/^\$\.Lambda\.LambdaConfig\.COMMAND\b/, '--command'],
  [/^\$\.Lambda\.LambdaConfig\.EXECUTION_TIMEOUT\b/, '--execution-timeout'],
  [/^\$\.Lambda\.LambdaConfig\.SSM_TIMEOUT\b/, '--ssm-timeout'],
  [/^\$\.UXData\.Affiliates\[\d+\]\.ContactEmail\b/, '--contact-email'],
  [/^\$\.UXData\b/, '--group'],
]

export interface AnswerProblem {
  flag: InitFlag | undefined
  message: string
}

function answerValue(answers: InitAnswers, flag: InitFlag, path: string): string {
  switch (flag) {
    case '--name':
      return answers.name
    case '--region':
      return answers.region
    case '--ami':
      return answers.ami
    case '--instance-type':
      return answers.instanceType
    case '--command':
      return answers.command
    case '--execution-timeout':
      return String(answers.executionTimeout)
    case '--ssm-timeout':
      return String(answers.ssmTimeout)
    case '--contact-email':
      return answers.contactEmail ?? ''
    case '--group': {
      const index = /Affiliates\[(\d+)\]/.exec(path)
      const group = index ? answers.groups[Number(index[1])] : undefined
      return group ? formatGroup(group) : answers.groups.map(formatGroup).join(' ')
    }
  }
}

function describe(d: Diagnostic, answers: InitAnswers): AnswerProblem {
  const flag = FLAG_BY_PATH.find(([pattern]) => pattern.test(d.path))?.[1]
  if (flag === undefined) return {flag, message: `${d.path}: ${d.message}`}
  const value = JSON.stringify(answerValue(answers, flag, d.path))
  // "expected an S3 bucket name, found "X": reasons" reads, for a flag, as "X is not an S3 bucket name: reasons".
  const stem = `expected ${d.expected}, found ${d.found}`
  if (d.expected && d.found && /^an? /.test(d.expected)) {
    const said = `${d.found} is not ${d.expected}${d.message.startsWith(stem) ? d.message.slice(stem.length) : ''}`
    return {flag, message: d.found === value ? `${flag}: ${said}` : `${flag} ${value}: ${said}`}
  }
  // A --group value is one of several: name it as it was given (--group "lab:ann"), as its parse errors do.
  return {flag, message: flag === '--group' ? `--group ${value}: ${d.message}` : `${flag}: ${value}: ${d.message}`}
}

/**
 * Checks answers by the config's own rules on the config they make. Every
 * problem names the flag that gave the value. A contact address that is not
 * an e-mail is only a warning in a loaded config, but here it was just typed:
 * an error.
 */
export async function checkAnswers(
  answers: InitAnswers,
  dir = '.',
): Promise<{config: StackConfigJson; errors: AnswerProblem[]; warnings: AnswerProblem[]}> {
  const config = await buildStackConfig(answers)
  const folder = resolve(dir)
  const image = join(folder, 'image')
  const result = checkPipeline(config, join(folder, CONFIG_FILE_NAME), {dirExists: (p) => resolve(p) === image || existsSync(p)})
  const errors: AnswerProblem[] = []
  const warnings: AnswerProblem[] = []
  const amiIsBad = result.errors.some((d) => d.path === '$.Lambda.LambdaConfig.AMI')
  for (const d of [...result.errors, ...result.warnings]) {
    // LocalImages is keyed by the AMI: its errors only repeat the AMI's.
    if (amiIsBad && d.path.startsWith('$.Ncap.LocalImages')) continue
    const problem = describe(d, answers)
    const list = d.severity === 'error' || problem.flag === '--contact-email' ? errors : warnings
    // REGION is written twice (top level and LambdaConfig): say it once.
    if (!list.some((p) => p.message === problem.message)) list.push(problem)
  }
  return {config, errors, warnings}
}

function eventValues(answers: InitAnswers, config: StackConfigJson, now: Date): Record<string, JsonValue> {
  const lambdaConfig = ((config.Lambda as {[k: string]: JsonValue}).LambdaConfig ?? {}) as {[k: string]: JsonValue}
  const group = answers.groups[0]!.name
  const submitBody = `${JSON.stringify({dataname: `${group}/inputs/data.txt`, configname: `${group}/configs/config.yaml`, timestamp: 'simulated'}, null, 2)}\n`
  const requestId = randomUUID()
  const stackGuid = randomUUID()
  const accountId = '000000000000'
  const stackId = `arn:aws:cloudformation:${answers.region}:${accountId}:stack/${answers.name}/${stackGuid}`
  return {
    bucket: answers.name,
    group,
    groups: answers.groups.map((g) => g.name),
    folders: [lambdaConfig.INDIR, lambdaConfig.OUTDIR, lambdaConfig.LOGDIR, 'configs', 'submissions'] as JsonValue[],
    region: answers.region,
    // The emulator's account (LocalStack's too); events sent to AWS carry the real one.
    accountId,
    instanceId: 'i-0123456789abcdef0',
    state: 'running',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventTime: now.toISOString(),
    eventId: randomUUID(),
    requestId,
    stackGuid,
    responseUrl: `https://cloudformation-custom-resource-response-${answers.region.replaceAll('-', '')}.s3.amazonaws.com/${encodeURIComponent(`${stackId}|BucketFolders|${requestId}`)}`,
    principalId: `AWS:AIDA${randomBytes(8).toString('hex').toUpperCase()}`,
    hostId: randomBytes(48).toString('base64'),
    configurationId: `${answers.name}-submit`,
    size: Buffer.byteLength(submitBody),
    eTag: createHash('md5').update(submitBody).digest('hex'),
    sequencer: randomBytes(9).toString('hex').toUpperCase(),
    // The compiled template leaves the schedule rule unnamed: CloudFormation names it <stack>-<logical id>-<random>.
    ruleName: `${answers.name}-MonitorSchedule-${randomBytes(6).toString('hex').toUpperCase()}`,
    logFolder: lambdaConfig.LOGDIR ?? 'logs',
  }
}

function textValues(answers: InitAnswers): Record<string, JsonValue> {
  return {
    name: answers.name,
    region: answers.region,
    ami: answers.ami,
    instanceType: answers.instanceType,
    command: answers.command,
    amiNote:
      answers.ami === PLACEHOLDER_AMI
        ? 'is a placeholder: the emulator runs it from `image/`, but AWS has no such image; replace it before `ncap deploy --target aws`.'
        : 'is the one given to `ncap init`; make sure it holds what `image/` holds.',
    groupSummary: answers.groups.map((g) => `\`${g.name}\` (${g.users.join(', ')})`).join('; '),
  }
}

/** Every file `ncap init` writes for these answers, in memory. */
export async function planScaffold(answers: InitAnswers, config: StackConfigJson, now = new Date()): Promise<ScaffoldFile[]> {
  const root = packageRoot()
  const files: ScaffoldFile[] = [{path: CONFIG_FILE_NAME, content: `${JSON.stringify(config, null, 2)}\n`}]
  const text = textValues(answers)
  for (const [path, executable] of [
    ['README.md', false],
    ['image/README.md', false],
    ['image/bin/run.sh', true],
    ['configs/config.yaml', false],
  ] as const) {
    const source = await readFile(join(root, 'templates', 'pipeline', path), 'utf8')
    // run.sh is bash (full of ${...}): copied as it is, never filled.
    files.push({path, content: executable ? source : fillString(source, text), executable})
  }
  const events = eventValues(answers, config, now)
  for (const name of (await readdir(join(root, 'simevents'))).filter((n) => n.endsWith('.json')).sort()) {
    const template = JSON.parse(await readFile(join(root, 'simevents', name), 'utf8')) as unknown
    files.push({path: `simevents/${name}`, content: `${JSON.stringify(fillEvent(template, events), null, 2)}\n`})
  }
  return files
}

/** Refuses a target ncap must not write into: not a folder, or not empty without --force. */
export async function checkInitTarget(dir: string, options: {force: boolean; files?: ScaffoldFile[]}): Promise<void> {
  const folder = resolve(dir)
  const info = await lstat(folder).catch(() => undefined)
  if (info === undefined) return
  if (!info.isDirectory()) throw new UsageError(`${dir}: exists and is not a folder`)
  const entries = await readdir(folder)
  if (entries.length > 0 && !options.force) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '')
    throw new UsageError(`${dir} is not empty (${shown}); ncap init writes into an empty or new folder`, {
      suggestions: ["--force to overwrite ncap's own files there (other files are left alone)", 'ncap init NEW_FOLDER'],
    })
  }
  for (const file of options.files ?? []) {
    const parts = file.path.split('/')
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/')
      const found = await lstat(join(folder, rel)).catch(() => undefined)
      if (found === undefined) break
      const wantFolder = i < parts.length
      if (wantFolder ? !found.isDirectory() : !found.isFile()) {
        throw new UsageError(
          `${join(dir, rel)}: ncap init needs a ${wantFolder ? 'folder' : 'file'} there and found something else; move it away first`,
        )
      }
    }
  }
}

/**
 * Writes the files into dir so that it is never left half-written: they are
 * staged in a temp folder beside dir; a new dir is one rename; into an existing
 * one each file is renamed into place, and any failure puts back what was there.
 */
export async function writeScaffold(dir: string, files: ScaffoldFile[]): Promise<{overwritten: string[]}> {
  const folder = resolve(dir)
  await mkdir(dirname(folder), {recursive: true})
  const staging = await mkdtemp(join(dirname(folder), `.${basename(folder)}.ncap-init-`))
  try {
    const content = join(staging, 'content')
    for (const file of files) {
      const target = join(content, file.path)
      await mkdir(dirname(target), {recursive: true})
      await writeFile(target, file.content, {flush: true})
      if (file.executable) await chmod(target, 0o755)
    }
    if (!existsSync(folder)) {
      await rename(content, folder)
      return {overwritten: []}
    }
    return await moveIntoPlace(folder, content, join(staging, 'previous'), files)
  } finally {
    await rm(staging, {recursive: true, force: true})
  }
}

async function moveIntoPlace(folder: string, content: string, previous: string, files: ScaffoldFile[]): Promise<{overwritten: string[]}> {
  const moves: Array<{path: string; backedUp: boolean; placed: boolean}> = []
  const createdDirs: string[] = []
  try {
    for (const file of files) {
      const target = join(folder, file.path)
      const missing: string[] = []
      for (let d = dirname(target); d !== folder && !existsSync(d); d = dirname(d)) missing.unshift(d)
      for (const d of missing) {
        await mkdir(d)
        createdDirs.push(d)
      }
      const move = {path: file.path, backedUp: false, placed: false}
      moves.push(move)
      if (existsSync(target)) {
        await mkdir(dirname(join(previous, file.path)), {recursive: true})
        await rename(target, join(previous, file.path))
        move.backedUp = true
      }
      await rename(join(content, file.path), target)
      move.placed = true
    }
  } catch (error) {
    // Undo in reverse; keep going past a step that fails so as much as possible is put back.
    for (const move of moves.reverse()) {
      if (move.placed) await rm(join(folder, move.path), {force: true}).catch(() => undefined)
      if (move.backedUp) await rename(join(previous, move.path), join(folder, move.path)).catch(() => undefined)
    }
    for (const d of createdDirs.reverse()) await rmdir(d).catch(() => undefined)
    throw error
  }
  return {overwritten: moves.filter((m) => m.backedUp).map((m) => m.path)}
}

/** `ncap init`: checks the answers and the folder, then writes the pipeline. */
export async function initPipeline(dir: string, answers: InitAnswers, options: {force?: boolean; now?: Date} = {}): Promise<InitResult> {
  const {config, errors, warnings} = await checkAnswers(answers, dir)
  if (errors.length > 0) throw new UsageError(errors.map((e) => e.message).join('\n'))
  const files = await planScaffold(answers, config, options.now)
  await checkInitTarget(dir, {force: options.force ?? false, files})
  const {overwritten} = await writeScaffold(dir, files)
  return {dir: resolve(dir), files: files.map((f) => f.path), overwritten, warnings: warnings.map((w) => w.message), config}
}
