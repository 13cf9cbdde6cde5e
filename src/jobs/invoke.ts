/**
 * `ncap invoke`: runs one function of the pipeline's compiled template from its
 * source, bundled on the fly, in the very worker the emulator's Lambda uses
 * (runtime.ts's runInvocation), with the function's settings from the template
 * (never a second copy) and its AWS calls pointed at the target. SAM's
 * `local invoke`, without Docker.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Target} from '../cloud/target.js'
import {NcapError, UsageError} from '../errors.js'
import {compileProject} from '../template/from-config.js'
import type {Resource, Template} from '../template/types.js'

export const DEFAULT_FUNCTION = 'SubmitFunction'
const EMULATOR_ACCOUNT = '000000000000'

export interface PipelineFunction {
  logicalId: string
  name: string
  handler: string
  runtime: string
  timeout: number
  memory: number
  /** The code folder on disk. */
  codeDir: string
  environment: Record<string, unknown>
}

export interface InvokeOptions {
  dir: string
  /** Logical id or physical name; default the submit function. */
  function?: string
  event: unknown
  /** SAM's --env-vars file: {"Parameters": {...}, "<LogicalId or name>": {...}}. */
  envVars?: string
  target: Target
  /** The function, when the caller already looked it up (findFunction). */
  found?: Awaited<ReturnType<typeof findFunction>>
}

export interface InvokeReport {
  function: string
  logicalId: string
  result?: unknown
  error?: {errorType: string; errorMessage: string; trace?: string[]; stackTrace?: string[]}
  logs: string
  durationMs: number
  /** What could not be resolved here, and what was bundled. */
  notes: string[]
}

/** The package root (ncap's own lambda_repo/ is there), from src/ or dist/src/. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'lambda_repo')) && existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error('ncap is installed without its lambda_repo/ folder')
  }
}

function functionsOf(templates: Template[]): [string, Resource][] {
  return templates.flatMap((t) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'))
}

/** What the intrinsics in a function's environment can resolve to without a deployed stack. */
class Resolver {
  readonly notes: string[] = []
  constructor(
    private readonly templates: Template[],
    private readonly target: Target,
    private readonly stackName: string,
    private readonly accountId: string,
  ) {}

  private resource(id: string): Resource | undefined {
    for (const t of this.templates) if (t.Resources[id]) return t.Resources[id]
    return undefined
  }

  private account(): string {
    return this.accountId
  }

  ref(name: string, variable: string): string {
    switch (name) {
      case 'AWS::Region':
        return this.target.region
      case 'AWS::AccountId':
        return this.account()
      case 'AWS::Partition':
        return 'aws'
      case 'AWS::URLSuffix':
        return 'amazonaws.com'
      case 'AWS::StackName':
        return this.stackName
    }
    for (const t of this.templates) {
      const p = t.Parameters?.[name]
      if (p) {
        if (p.Default !== undefined) return String(p.Default)
        this.notes.push(`${variable}: parameter ${name} has no value outside a deployment; left empty`)
        return ''
      }
    }
    this.notes.push(`${variable}: Ref ${name} names a resource that exists only once deployed; left empty`)
    return ''
  }

  getAtt(id: string, attribute: string, variable: string): string {
    const r = this.resource(id)
    const name = (r?.Properties as {FunctionName?: unknown} | undefined)?.FunctionName
    if (r?.Type === 'AWS::Lambda::Function' && attribute === 'Arn' && typeof name === 'string') {
      return `arn:aws:lambda:${this.target.region}:${this.account()}:function:${name}`
    }
    this.notes.push(`${variable}: ${id}.${attribute} exists only once the stack is deployed; left empty`)
    return ''
  }

  value(v: unknown, variable: string): string {
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    const o = v as Record<string, unknown>
    if (o && typeof o.Ref === 'string') return this.ref(o.Ref, variable)
    const att = o?.['Fn::GetAtt']
    if (Array.isArray(att) && att.length === 2) return this.getAtt(String(att[0]), String(att[1]), variable)
    if (typeof att === 'string' && att.includes('.')) return this.getAtt(att.split('.')[0]!, att.split('.').slice(1).join('.'), variable)
    const sub = o?.['Fn::Sub']
    if (typeof sub === 'string' || Array.isArray(sub)) {
      const [text, vars] = typeof sub === 'string' ? [sub, {}] : [String(sub[0]), (sub[1] ?? {}) as Record<string, unknown>]
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in vars) return this.value(vars[name], variable)
        const dot = name.indexOf('.')
        return dot > 0 && !name.startsWith('AWS::')
          ? this.getAtt(name.slice(0, dot), name.slice(dot + 1), variable)
          : this.ref(name, variable)
      })
    }
    const join = o?.['Fn::Join']
    if (Array.isArray(join) && Array.isArray(join[1]))
      return (join[1] as unknown[]).map((x) => this.value(x, variable)).join(String(join[0]))
    this.notes.push(`${variable}: ${JSON.stringify(v)} cannot be resolved outside a deployment; left empty`)
    return ''
  }
}

export async function findFunction(dir: string, wanted?: string) {
  const project = await compileProject(dir)
  const templates = [project.compiled.main, ...Object.values(project.compiled.nested)]
  const functions = functionsOf(templates)
  const id = wanted ?? DEFAULT_FUNCTION
  const found = functions.find(([logicalId, r]) => logicalId === id || (r.Properties as {FunctionName?: unknown})?.FunctionName === id)
  if (!found) {
    const known = functions.map(([logicalId, r]) => `${logicalId} (${(r.Properties as {FunctionName?: string}).FunctionName})`).join(', ')
    throw new UsageError(`${project.configPath} has no function ${id}: its functions are ${known}`)
  }
  const [logicalId, resource] = found
  const p = resource.Properties as {
    FunctionName: string
    Handler: string
    Runtime: string
    Timeout?: number
    MemorySize?: number
    Environment?: {Variables?: Record<string, unknown>}
  }
  const asset = String((resource.Metadata as Record<string, unknown> | undefined)?.['ncap:asset'] ?? '.')
  const beside = resolve(project.configDir, asset)
  const codeDir = existsSync(beside) ? beside : resolve(packageRoot(), asset)
  if (!existsSync(codeDir))
    throw new NcapError(`the code of ${logicalId} (${asset}) is neither beside ${project.configPath} nor in ncap`, {code: 'NoFunctionCode'})
  const fn: PipelineFunction = {
    logicalId,
    name: p.FunctionName,
    handler: p.Handler,
    runtime: p.Runtime,
    timeout: p.Timeout ?? 3,
    memory: p.MemorySize ?? 128,
    codeDir,
    environment: p.Environment?.Variables ?? {},
  }
  return {project, templates, fn}
}

/** The target's account: the emulator's, or the caller's on AWS. */
async function accountOf(target: Target): Promise<string> {
  if (target.kind !== 'aws') return EMULATOR_ACCOUNT
  const {STSClient, GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
  const {createClient} = await import('../cloud/client.js')
  return (await createClient(STSClient, target).send(new GetCallerIdentityCommand({}))).Account ?? EMULATOR_ACCOUNT
}

/** SAM's --env-vars: "Parameters" applies to every function, an entry named by logical id or name to that one. */
async function envOverrides(file: string, fn: PipelineFunction, notes: string[]): Promise<Record<string, string>> {
  let parsed: Record<string, Record<string, unknown>>
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`--env-vars ${file}: ${(error as Error).message}`)
  }
  const out: Record<string, string> = {}
  for (const section of ['Parameters', fn.logicalId, fn.name]) {
    for (const [key, value] of Object.entries(parsed[section] ?? {})) {
      if (!(key in fn.environment)) {
        notes.push(`--env-vars ${section}.${key} ignored: ${fn.logicalId} declares no such variable (as SAM does)`)
        continue
      }
      out[key] = typeof value === 'string' ? value : JSON.stringify(value)
    }
  }
  return out
}

/** Bundles a Node handler folder into a folder holding index.js, reusing the last bundle while no input changed. */
async function bundledCode(fn: PipelineFunction, notes: string[]): Promise<string> {
  const cacheDir = join(tmpdir(), 'ncap-invoke', createHash('sha256').update(fn.codeDir).digest('hex').slice(0, 16))
  const manifestPath = join(cacheDir, 'inputs.json')
  try {
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {file: string; mtimeMs: number; size: number}[]
    const fresh = await Promise.all(
      manifest.map(async (m) => {
        const s = await stat(m.file).catch(() => undefined)
        return s !== undefined && s.mtimeMs === m.mtimeMs && s.size === m.size
      }),
    )
    if (manifest.length > 0 && fresh.every(Boolean) && existsSync(join(cacheDir, 'index.js'))) {
      notes.push(`code: ${fn.codeDir} (bundle unchanged since the last invoke)`)
      return cacheDir
    }
  } catch {
    // No usable cache: bundle.
  }
  const {bundleHandler} = await import('../deploy/bundle.js')
  const bundle = await bundleHandler(fn.codeDir, {minify: false})
  await mkdir(cacheDir, {recursive: true})
  await writeFile(join(cacheDir, 'index.js'), bundle.code)
  const inputs = await Promise.all(
    bundle.inputs.map(async (rel) => {
      const file = resolve(fn.codeDir, rel)
      const s = await stat(file)
      return {file, mtimeMs: s.mtimeMs, size: s.size}
    }),
  )
  await writeFile(manifestPath, JSON.stringify(inputs))
  notes.push(`code: ${fn.codeDir} bundled (${bundle.code.length} bytes, ${bundle.inputs.length} source files)`)
  return cacheDir
}

export async function invokeFunction(options: InvokeOptions): Promise<InvokeReport> {
  const {project, templates, fn} = options.found ?? (await findFunction(options.dir, options.function))
  const resolver = new Resolver(templates, options.target, project.pipeline.name, await accountOf(options.target))
  const environment: Record<string, string> = {}
  for (const [key, value] of Object.entries(fn.environment)) environment[key] = resolver.value(value, key)
  const notes = resolver.notes
  if (options.envVars) Object.assign(environment, await envOverrides(options.envVars, fn, notes))

  const target = options.target
  const credentials = typeof target.credentials === 'function' ? await target.credentials() : target.credentials
  const awsEnv: Record<string, string> = {AWS_REGION: target.region, AWS_DEFAULT_REGION: target.region}
  if (target.endpoint) awsEnv.AWS_ENDPOINT_URL = target.endpoint
  if (credentials) {
    awsEnv.AWS_ACCESS_KEY_ID = credentials.accessKeyId
    awsEnv.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey
    if (credentials.sessionToken) awsEnv.AWS_SESSION_TOKEN = credentials.sessionToken
  }

  const node = fn.runtime.startsWith('nodejs')
  const entry = ['index.ts', 'index.mts', 'index.js', 'index.mjs'].some((f) => existsSync(join(fn.codeDir, f)))
  const codeDir = node && fn.handler.startsWith('index.') && entry ? await bundledCode(fn, notes) : fn.codeDir
  if (codeDir === fn.codeDir) notes.push(`code: ${fn.codeDir} (run as it is)`)
  const {runInvocation} = await import('../emulator/services/lambda/runtime.js')
  const outcome = await runInvocation({
    codeDir,
    handler: fn.handler,
    runtime: fn.runtime,
    environment: {...environment, ...awsEnv},
    timeout: fn.timeout,
    memory: fn.memory,
    event: options.event,
    functionName: fn.name,
    region: target.region,
  })
  return {
    function: fn.name,
    logicalId: fn.logicalId,
    ...(outcome.error ? {error: outcome.error} : {result: outcome.result}),
    logs: outcome.logs,
    durationMs: outcome.durationMs,
    notes,
  }
}

/** Reads --event: a file, or '-' for stdin; absent is {}. */
export async function readEvent(source: string | undefined): Promise<unknown> {
  if (source === undefined) return {}
  let text: string
  if (source === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    text = Buffer.concat(chunks).toString('utf8')
  } else {
    text = await readFile(source, 'utf8').catch((error: Error) => {
      throw new UsageError(`--event ${source}: ${error.message}`)
    })
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--event ${source === '-' ? '(stdin)' : source} is not JSON: ${(error as Error).message}`)
  }
}
