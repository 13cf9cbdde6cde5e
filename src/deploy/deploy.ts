/**
 * `ncap deploy` as a pipeline of small steps, as the CDK toolkit deploys:
 * build and validate → bundle the handlers → ensure the assets bucket and upload
 * what changed → (local) register the pipeline's images and refuse what the
 * engine cannot create → create a change set → show it → confirm → execute and
 * follow the stack's events → outputs. Every target takes the same path.
 */
import type {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import type {S3Client} from '@aws-sdk/client-s3'
import {createClient} from '../cloud/client.js'
import {resolveTarget, type Target} from '../cloud/target.js'
import type {Pipeline} from '../config/model.js'
import {NcapError, UsageError} from '../errors.js'
import {compileProject} from '../template/from-config.js'
import {type CompiledStack, writeCompiled} from '../template/index.js'
import {lintTemplate} from '../template/lint/index.js'
import type {Step, StepOutput} from '../ui/steps.js'
import {runSteps} from '../ui/steps.js'
import {assetsBucketName, objectUrl, prepareAssets, type StackAssets, TEMPLATE_BODY_LIMIT, withNestedUrls} from './assets.js'
import {localPreparation} from './local.js'
import {pipelineTarget, targetLabel} from './pipeline-target.js'
import {type DeploySettings, mergeSettings, readSettings, type SettingsFlags, saveSettings} from './settings.js'
import {
  type ChangeRow,
  createChangeSet,
  deleteChangeSet,
  deleteStack,
  describeStack,
  executeChangeSet,
  failures,
  followStack,
  isFailedStatus,
  outputsOf,
  type StackEventLine,
} from './stack.js'

export interface DeployRequest {
  dir: string
  flags: SettingsFlags
  /** Execute without asking. */
  yes: boolean
  /** false: create and show the change set, leave it unexecuted (--no-execute). */
  execute: boolean
  output: StepOutput
  /** Asks a yes/no question on the terminal; undefined when there is none (then --yes is required). */
  confirm?: (question: string) => Promise<boolean>
  /** Shown before asking: the change set as a table. */
  showChanges(rows: ChangeRow[], stackName: string): void
  onEvent(line: StackEventLine): void
  note(text: string): void
}

export interface DeployResult {
  stackName: string
  target: DeploySettings
  region: string
  /** True when the stack already matched the config. */
  noChanges: boolean
  changeSet?: {id: string; type: 'CREATE' | 'UPDATE'; changes: ChangeRow[]}
  executed: boolean
  status?: string
  events: StackEventLine[]
  failures: StackEventLine[]
  outputs: Record<string, string>
  assets: {uploaded: string[]; unchanged: string[]}
  /** Images registered with the local emulator for the pipeline's AMIs. */
  images: string[]
}

interface Context {
  pipeline?: Pipeline
  compiled?: CompiledStack
  configDir?: string
  settings?: DeploySettings
  target?: Target
  assets?: StackAssets
  cfn?: CloudFormationClient
  s3?: S3Client
  bucket?: string
  templateBody?: string
  templateUrl?: string
  parameters?: {ParameterKey: string; ParameterValue: string}[]
  uploaded: string[]
  unchanged: string[]
  images: string[]
  stackName?: string
  changeType?: 'CREATE' | 'UPDATE'
  changeSet?: Awaited<ReturnType<typeof createChangeSet>>
}

/** Poll fast against an emulator, gently against AWS. */
const pollMsFor = (target: Target) => (target.kind === 'aws' ? 2000 : 100)

/** Loads and compiles the pipeline: config errors exit 2 before anything touches a target. */
async function buildStep(ctx: Context, dir: string): Promise<void> {
  const project = await compileProject(dir)
  // References, cycles and quotas: fast. The resource-specification check (~0.3 s to load) is `ncap validate`'s;
  // the compiler's output is tested against it, and CloudFormation checks properties itself.
  const problems = (
    await lintTemplate(project.compiled.main, {file: 'compiled_template.json', nested: project.compiled.nested, spec: false})
  ).filter((d) => d.severity === 'error')
  if (problems.length > 0) {
    throw new NcapError(`the compiled template has ${problems.length} error(s): ${problems.map((d) => d.message).join('; ')}`, {
      code: 'TemplateInvalid',
    })
  }
  await writeCompiled(project.configDir, project.compiled)
  ctx.pipeline = project.pipeline
  ctx.compiled = project.compiled
  ctx.configDir = project.configDir
}

async function ensureAssetsBucket(ctx: Context, report: (text: string) => void): Promise<void> {
  const target = ctx.target!
  const {STSClient, GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
  const s3sdk = await import('@aws-sdk/client-s3')
  const account = (await createClient(STSClient, target).send(new GetCallerIdentityCommand({}))).Account ?? '000000000000'
  const bucket = assetsBucketName(account, target.region)
  const s3 = createClient(s3sdk.S3Client, target)
  ctx.s3 = s3
  ctx.bucket = bucket
  const exists = await s3.send(new s3sdk.HeadBucketCommand({Bucket: bucket})).then(
    () => true,
    (error: {$metadata?: {httpStatusCode?: number}; name?: string}) => {
      if (error.$metadata?.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchBucket') return false
      throw error
    },
  )
  if (!exists) {
    report(`creating ${bucket}`)
    await s3.send(
      new s3sdk.CreateBucketCommand({
        Bucket: bucket,
        ...(target.region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: target.region as never}}),
      }),
    )
    await s3
      .send(
        new s3sdk.PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        }),
      )
      .catch(() => undefined)
  }
}

async function upload(ctx: Context, key: string, body: Buffer | string, contentType: string): Promise<void> {
  const {HeadObjectCommand, PutObjectCommand} = await import('@aws-sdk/client-s3')
  const present = await ctx.s3!.send(new HeadObjectCommand({Bucket: ctx.bucket, Key: key})).then(
    () => true,
    () => false,
  )
  if (present) {
    ctx.unchanged.push(key)
    return
  }
  await ctx.s3!.send(new PutObjectCommand({Bucket: ctx.bucket, Key: key, Body: body, ContentType: contentType}))
  ctx.uploaded.push(key)
}

async function uploadStep(ctx: Context, report: (text: string) => void): Promise<void> {
  const assets = ctx.assets!
  const target = ctx.target!
  for (const asset of assets.code) {
    report(`${asset.declared} (${(asset.zip.length / 1024).toFixed(1)} KiB)`)
    await upload(ctx, asset.key, asset.zip, 'application/zip')
  }
  const urls: Record<string, string> = {}
  for (const t of assets.templates) {
    report(t.file)
    await upload(ctx, t.key, t.body, 'application/json')
    urls[t.file] = objectUrl(ctx.bucket!, t.key, target.region, target.endpoint)
  }
  const main = Object.keys(urls).length > 0 ? withNestedUrls(ctx.compiled!.main, urls) : ctx.compiled!.main
  const body = `${JSON.stringify(main, null, 1)}\n`
  if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
    const {createHash} = await import('node:crypto')
    const key = `ncap/templates/${createHash('sha256').update(body).digest('hex')}.json`
    await upload(ctx, key, body, 'application/json')
    ctx.templateUrl = objectUrl(ctx.bucket!, key, target.region, target.endpoint)
  } else ctx.templateBody = body
  const declared = (ctx.compiled!.main.Parameters ?? {}) as Record<string, unknown>
  ctx.parameters = [
    ...('AssetsBucket' in declared ? [{ParameterKey: 'AssetsBucket', ParameterValue: ctx.bucket!}] : []),
    ...assets.code.map((a) => ({ParameterKey: a.parameter, ParameterValue: a.key})),
  ]
}

function capabilitiesOf(compiled: CompiledStack): string[] {
  const caps = new Set<string>(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'])
  if (Object.keys(compiled.nested).length > 0) caps.add('CAPABILITY_AUTO_EXPAND')
  return [...caps]
}

export async function deployPipeline(request: DeployRequest): Promise<DeployResult> {
  // Refused before anything is built or touched: there will be no way to confirm.
  if (request.execute && !request.yes && !request.confirm) {
    throw new UsageError(
      'ncap deploy asks before changing a stack, and there is no terminal to ask on: pass --yes (or --no-execute to only see the change set)',
      {
        suggestions: ['ncap deploy --yes', 'ncap deploy --no-execute'],
      },
    )
  }
  const ctx: Context = {uploaded: [], unchanged: [], images: []}
  const steps: Step<Context>[] = [
    {title: 'Build and validate the stack', run: (c) => buildStep(c, request.dir)},
    {
      title: 'Resolve the target',
      run: async (c, report) => {
        const saved = await readSettings(c.configDir!)
        c.settings = mergeSettings(saved, request.flags)
        c.stackName = c.settings.stackName ?? c.pipeline!.name
        report(targetLabel(c.settings))
        c.target = await resolveTarget({
          target: c.settings.target,
          endpointUrl: c.settings.endpointUrl,
          profile: c.settings.profile,
          region: c.settings.region ?? c.pipeline!.region,
          stateDir: c.settings.stateDir,
        })
        const {CloudFormationClient} = await import('@aws-sdk/client-cloudformation')
        c.cfn = createClient(CloudFormationClient, c.target)
        if (c.target.kind === 'localstack') {
          request.note(
            "warning: LocalStack's free image does not run EC2 instances: the stack deploys there, but jobs will not run (use --target local)",
          )
        }
      },
    },
    {
      title: 'Check what the local emulator must run',
      skip: (c) => (c.target?.kind === 'local' ? false : 'not the local emulator'),
      run: async (c, report) => {
        c.images = await localPreparation(c.pipeline!, c.compiled!, c.settings?.stateDir, report)
      },
    },
    {
      title: 'Bundle the handlers',
      run: async (c, report) => {
        c.assets = await prepareAssets(c.pipeline!, c.compiled!)
        report(`${c.assets.code.length} function(s), ${c.assets.templates.length} nested template(s)`)
      },
    },
    {
      title: 'Upload what changed to the assets bucket',
      run: async (c, report) => {
        await ensureAssetsBucket(c, report)
        await uploadStep(c, report)
        report(`${c.uploaded.length} uploaded, ${c.unchanged.length} unchanged`)
      },
    },
    {
      title: 'Create the change set',
      run: async (c, report) => {
        let stack = await describeStack(c.cfn!, c.stackName!)
        if (
          stack &&
          (stack.StackStatus === 'ROLLBACK_COMPLETE' ||
            stack.StackStatus === 'ROLLBACK_FAILED' ||
            stack.StackStatus === 'REVIEW_IN_PROGRESS')
        ) {
          // A stack that never finished creating cannot be updated: CloudFormation requires it to be deleted first.
          report(`deleting ${c.stackName} (${stack.StackStatus}) left by an earlier failed create`)
          await deleteStack(c.cfn!, stack.StackId!)
          await followStack(c.cfn!, stack.StackId!, {pollMs: pollMsFor(c.target!), since: new Date(), onEvent: () => {}})
          stack = undefined
        }
        if (stack?.StackStatus === 'DELETE_FAILED') {
          throw new NcapError(
            `stack ${c.stackName} is DELETE_FAILED (${stack.StackStatusReason ?? 'an earlier delete failed'}): CloudFormation cannot update it; delete it first`,
            {
              code: 'StackDeleteFailed',
              suggestions: ['ncap destroy --yes'],
            },
          )
        }
        if (stack && /_IN_PROGRESS$/.test(stack.StackStatus ?? '')) {
          throw new NcapError(`stack ${c.stackName} is busy (${stack.StackStatus}); wait for it to settle and deploy again`, {
            code: 'StackBusy',
          })
        }
        c.changeType = stack ? 'UPDATE' : 'CREATE'
        c.changeSet = await createChangeSet(c.cfn!, {
          stackName: c.stackName!,
          changeSetName: `ncap-${Date.now()}`,
          type: c.changeType,
          templateBody: c.templateBody,
          templateUrl: c.templateUrl,
          parameters: c.parameters!,
          capabilities: capabilitiesOf(c.compiled!),
          pollMs: pollMsFor(c.target!),
        })
        report(c.changeSet.empty ? 'no changes' : `${c.changeSet.rows.length} change(s)`)
      },
    },
  ]
  await runSteps(steps, ctx, request.output)
  const settings = ctx.settings!
  const stackName = ctx.stackName!
  const changeSet = ctx.changeSet!
  const result: DeployResult = {
    stackName,
    target: settings,
    region: ctx.target!.region,
    noChanges: changeSet.empty,
    executed: false,
    events: [],
    failures: [],
    outputs: {},
    assets: {uploaded: ctx.uploaded, unchanged: ctx.unchanged},
    images: ctx.images,
  }
  await saveSettings(ctx.configDir!, settings)
  if (changeSet.empty) {
    await deleteChangeSet(ctx.cfn!, changeSet.stackId, changeSet.id)
    result.outputs = outputsOf(await describeStack(ctx.cfn!, stackName))
    return result
  }
  result.changeSet = {id: changeSet.id, type: ctx.changeType!, changes: changeSet.rows}
  request.showChanges(changeSet.rows, stackName)
  if (!request.execute) {
    request.note(`change set left for review: ${changeSet.id}`)
    return result
  }
  if (!request.yes) {
    if (!request.confirm) {
      throw new UsageError(`deploying ${stackName} changes resources: pass --yes to deploy without a terminal to confirm on`, {
        suggestions: ['ncap deploy --yes'],
      })
    }
    const billable = ctx.target!.kind === 'aws' && ctx.changeType === 'CREATE'
    const question = billable
      ? `Create ${stackName} on AWS? This creates billable resources in ${ctx.target!.region} (S3, Lambda, CloudWatch; EC2 instances per job).`
      : `Deploy these changes to ${stackName} (${targetLabel(settings)})?`
    if (!(await request.confirm(question))) {
      await deleteChangeSet(ctx.cfn!, changeSet.stackId, changeSet.id)
      request.note('nothing deployed (declined); the change set was deleted')
      return result
    }
  }
  const started = new Date()
  await executeChangeSet(ctx.cfn!, changeSet.stackId, changeSet.id)
  result.executed = true
  const followed = await followStack(ctx.cfn!, changeSet.stackId, {
    pollMs: pollMsFor(ctx.target!),
    since: started,
    onEvent: request.onEvent,
  })
  result.status = followed.status
  result.events = followed.events
  result.failures = failures(followed.events)
  result.outputs = outputsOf(await describeStack(ctx.cfn!, stackName))
  return result
}

export const deploySucceeded = (result: DeployResult) => result.noChanges || !result.executed || !isFailedStatus(result.status)

export interface DestroyRequest {
  dir: string
  flags: SettingsFlags
  output: StepOutput
  onEvent(line: StackEventLine): void
}

export interface DestroyResult {
  stackName: string
  target: DeploySettings
  status: string
  events: StackEventLine[]
  failures: StackEventLine[]
}

/** Deletes the pipeline's stack (its folder resource empties the bucket first) and follows the events to the end. */
export async function destroyPipeline(request: DestroyRequest): Promise<DestroyResult> {
  const {settings, stackName, target} = await pipelineTarget(request.dir, request.flags)
  const {CloudFormationClient} = await import('@aws-sdk/client-cloudformation')
  const cfn = createClient(CloudFormationClient, target)
  const stack = await describeStack(cfn, stackName)
  if (!stack) {
    throw new NcapError(`stack ${stackName} does not exist on ${targetLabel(settings)} (region ${target.region}): nothing to destroy`, {
      code: 'StackNotFound',
      suggestions: ['ncap deploy'],
    })
  }
  const started = new Date()
  await deleteStack(cfn, stack.StackId!)
  const followed = await followStack(cfn, stack.StackId!, {pollMs: pollMsFor(target), since: started, onEvent: request.onEvent})
  return {stackName, target: settings, status: followed.status, events: followed.events, failures: failures(followed.events)}
}
