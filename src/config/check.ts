/**
 * checkPipeline: every rule over an already-parsed config, then the normalized Pipeline.
 * Never throws for bad input; the errors and warnings say everything found.
 */
import {statSync} from 'node:fs'
import path from 'node:path'
import type {ZodIssue} from 'zod'
import {NEUROCAAS_DEFAULTS} from './defaults.js'
import {Findings, preview} from './errors.js'
import type {Diagnostic, Group, Pipeline, User} from './model.js'
import {AMI_ID} from './naming.js'
import {
  asArray,
  asObject,
  asString,
  checkCommand,
  checkContactEmail,
  checkFolders,
  checkStage,
  checkUnknownKeys,
  coerceNumericStrings,
  collectUsers,
  countCommandSlots,
  resolveLaunch,
  resolvePostProcess,
  resolveSubmitHandler,
} from './rules.js'
import {type RawStackConfig, StackConfigSchema} from './schema.js'
import {ownership, type WorkspaceUser} from './workspace.js'

export interface CheckOptions {
  /** Users declared by the other pipelines of the workspace (see scanWorkspace). */
  workspace?: WorkspaceUser[]
  /** Whether a folder exists (CodeUri, PostCodeUri, LocalImages); the real disk by default. */
  dirExists?: (p: string) => boolean
}

export interface CheckResult {
  pipeline?: Pipeline
  errors: Diagnostic[]
  warnings: Diagnostic[]
}

const isDirectory = (p: string): boolean => statSync(p, {throwIfNoEntry: false})?.isDirectory() ?? false

export function checkPipeline(raw: unknown, file: string, options: CheckOptions = {}): CheckResult {
  const absolute = path.resolve(file)
  const dir = path.dirname(absolute)
  const dirExists = options.dirExists ?? isDirectory
  const workspace = options.workspace ?? []
  const findings = new Findings(absolute)
  const done = (pipeline?: Pipeline): CheckResult => ({
    ...(pipeline ? {pipeline} : {}),
    errors: findings.errors,
    warnings: findings.warnings,
  })

  const root = asObject(raw) ? (structuredClone(raw) as Record<string, unknown>) : undefined
  if (!root) {
    findings.mismatch([], 'type', 'a JSON object (a stack config)', raw)
    return done()
  }
  checkUnknownKeys(root, findings)
  coerceNumericStrings(root, findings)
  const parsed = StackConfigSchema.safeParse(root)
  if (!parsed.success) for (const issue of parsed.error.issues) reportIssue(findings, issue, root)

  // Rules across fields run on the raw value too, so they report beside the field errors.
  const lambda = asObject(root.Lambda) ?? {}
  const lambdaConfig = asObject(lambda.LambdaConfig) ?? {}
  checkCommand(lambdaConfig.COMMAND, findings)
  checkFolders({LOGDIR: lambdaConfig.LOGDIR, OUTDIR: lambdaConfig.OUTDIR, INDIR: lambdaConfig.INDIR}, findings)
  const declared = collectUsers(root, asString(lambdaConfig.LOGDIR) ?? NEUROCAAS_DEFAULTS.LOGDIR, findings)
  const launch = resolveLaunch(lambda.Launch, lambdaConfig.LAUNCH, findings)
  const submitHandler = resolveSubmitHandler(lambda, dir, dirExists, findings)
  const postProcess = resolvePostProcess(lambda, dir, dirExists, findings)
  checkStage(root.STAGE, findings)
  if (typeof lambda.Requirements === 'string')
    findings.warn(
      ['Lambda', 'Requirements'],
      'requirements',
      `pip requirements (${preview(lambda.Requirements)}) are for Python handlers; ncap's handlers are Node: not used`,
    )
  if (typeof root.REGION === 'string' && typeof lambdaConfig.REGION === 'string' && root.REGION !== lambdaConfig.REGION)
    findings.warn(
      ['Lambda', 'LambdaConfig', 'REGION'],
      'region',
      `instances launch in ${lambdaConfig.REGION} while the stack is in ${root.REGION}`,
    )
  const contactEmails = asArray(asObject(root.UXData)?.Affiliates).map((a, i) =>
    checkContactEmail(asObject(a)?.ContactEmail, ['UXData', 'Affiliates', i, 'ContactEmail'], findings),
  )

  const ncap = asObject(root.Ncap)
  const existing = new Set(
    asArray(ncap?.ExistingUsers)
      .filter((u): u is string => typeof u === 'string')
      .map((u) => u.toLowerCase()),
  )
  const declaredNames = new Set(declared.map((u) => u.name.toLowerCase()))
  asArray(ncap?.ExistingUsers).forEach((u, i) => {
    if (typeof u === 'string' && !declaredNames.has(u.toLowerCase()))
      findings.warn(['Ncap', 'ExistingUsers', i], 'existing-users', `${preview(u)} is in no group of this pipeline: ignored`)
  })
  const images: Record<string, string> = {}
  for (const [ami, folder] of Object.entries(asObject(ncap?.LocalImages) ?? {})) {
    const at = ['Ncap', 'LocalImages', ami]
    if (!AMI_ID.test(ami)) findings.mismatch(at, 'local-images', 'an AMI id (ami- and 8 or 17 hex digits) as key', ami)
    if (typeof folder !== 'string' || folder === '') continue
    images[ami] = path.resolve(dir, folder)
    if (!dirExists(images[ami]))
      findings.warn(at, 'local-images', `image folder ${images[ami]} not found: the emulator cannot launch ${ami} until it exists`)
  }

  const name = asString(root.PipelineName)
  const twin = workspace.find((w) => w.pipelineName === name)
  if (name !== undefined && twin)
    findings.error(
      ['PipelineName'],
      'workspace',
      `another pipeline of the workspace has the PipelineName ${preview(name)} (${twin.file}): each needs its own bucket and stack`,
    )

  const users: User[] = declared.map((u) => {
    const owner = ownership(u.name, name ?? '', existing.has(u.name.toLowerCase()), workspace)
    if (owner.createdBy)
      findings.warn(
        u.at,
        'workspace',
        `user ${preview(u.name)} is also declared by pipeline ${owner.createdBy} (${owner.createdByFile}), which creates it: deploy ${owner.createdBy} first`,
      )
    return {name: u.name, groups: u.groups, existing: owner.existing, ...(owner.createdBy ? {createdBy: owner.createdBy} : {})}
  })

  if (!parsed.success || findings.errors.length > 0 || !submitHandler) return done()
  return done(buildPipeline(parsed.data, {file: absolute, dir, submitHandler, postProcess, launch, users, images, contactEmails}))
}

interface Resolved {
  file: string
  dir: string
  submitHandler: Pipeline['submitHandler']
  postProcess: Pipeline['postProcess']
  launch: boolean
  users: User[]
  images: Record<string, string>
  contactEmails: (string | undefined)[]
}

/** The normalized Pipeline: NeuroCAAS's defaults only where a key is absent. */
function buildPipeline(config: RawStackConfig, r: Resolved): Pipeline {
  const lc = config.Lambda.LambdaConfig
  const d = NEUROCAAS_DEFAULTS
  const spelling = new Map(r.users.map((u) => [u.name.toLowerCase(), u.name]))
  const groups: Group[] = config.UXData.Affiliates.map((a, i) => {
    const contactEmail = r.contactEmails[i]
    return {
      name: a.AffiliateName,
      userNames: a.UserNames.map((n) => spelling.get(n.toLowerCase()) ?? n),
      userInput: a.UserInput ?? d.UserInput,
      ...(contactEmail ? {contactEmail} : {}),
      ...(a.PipelinePath !== undefined ? {pipelinePath: a.PipelinePath} : {}),
      ...(a.PipelineDir !== undefined ? {pipelineDir: a.PipelineDir} : {}),
    }
  })
  const securityGroups = (Array.isArray(lc.SECURITY_GROUPS) ? lc.SECURITY_GROUPS : (lc.SECURITY_GROUPS ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return {
    file: r.file,
    dir: r.dir,
    name: config.PipelineName,
    ...(config.PipelineVersion !== undefined ? {version: String(config.PipelineVersion)} : {}),
    region: config.REGION,
    ...(config.STAGE ? {stage: config.STAGE} : {}),
    submitHandler: r.submitHandler,
    launch: r.launch,
    ...(r.postProcess ? {postProcess: r.postProcess} : {}),
    ...(config.Lambda.Requirements !== undefined ? {requirements: config.Lambda.Requirements} : {}),
    instance: {
      ami: lc.AMI,
      instanceType: lc.INSTANCE_TYPE,
      region: lc.REGION ?? config.REGION,
      securityGroups,
      ...(lc.IAM_ROLE ? {iamRole: lc.IAM_ROLE} : {}),
      ...(lc.KEY_NAME ? {keyName: lc.KEY_NAME} : {}),
      ...(lc.WORKING_DIRECTORY ? {workingDirectory: lc.WORKING_DIRECTORY} : {}),
      command: lc.COMMAND,
      commandSlots: countCommandSlots(lc.COMMAND),
      shutdownBehavior: lc.SHUTDOWN_BEHAVIOR ?? d.SHUTDOWN_BEHAVIOR,
      config: lc.CONFIG ?? d.CONFIG,
      missingConfigError: lc.MISSING_CONFIG_ERROR ?? d.MISSING_CONFIG_ERROR,
      executionTimeout: lc.EXECUTION_TIMEOUT ?? d.EXECUTION_TIMEOUT,
      ssmTimeout: lc.SSM_TIMEOUT ?? d.SSM_TIMEOUT,
      logDir: lc.LOGDIR ?? d.LOGDIR,
      outDir: lc.OUTDIR ?? d.OUTDIR,
      inDir: lc.INDIR ?? d.INDIR,
      logFile: lc.LOGFILE ?? d.LOGFILE,
      deployLimit: lc.DEPLOY_LIMIT ?? d.DEPLOY_LIMIT,
      maxCost: lc.MAXCOST ?? d.MAXCOST,
      monitor: lc.MONITOR ?? d.MONITOR,
    },
    groups,
    users: r.users,
    local: {images: r.images},
  }
}

/** A zod issue as a diagnostic: the path, what was expected (the issue's message), what was found. */
function reportIssue(findings: Findings, issue: ZodIssue, root: unknown): void {
  const at = issue.path
  const value = valueAt(root, at)
  if (issue.code === 'invalid_type' && issue.received === 'undefined') {
    const key = at.at(-1)
    findings.error(at, 'required', `${typeof key === 'string' ? key : 'value'} is missing: expected ${issue.message}`, {
      expected: issue.message,
      found: 'nothing',
    })
    return
  }
  if (issue.code === 'custom') {
    const params = (issue.params ?? {}) as {rule?: string; why?: string}
    findings.mismatch(at, params.rule ?? 'schema', issue.message, value, params.why)
    return
  }
  const wrongType = issue.code === 'invalid_type' || issue.code === 'invalid_union'
  findings.mismatch(at, wrongType ? 'type' : 'schema', issue.message, value, undefined, wrongType)
}

function valueAt(root: unknown, at: readonly (string | number)[]): unknown {
  let value = root
  for (const step of at) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string | number, unknown>)[step]
  }
  return value
}
