/**
 * AWS::Lambda::Function (code from S3, or inline Code.ZipFile zipped with
 * AWS's cfn-response module) and AWS::Lambda::Permission over the emulated
 * Lambda. A function's name change replaces it; code and configuration are
 * updated in place. Every change to a permission replaces it.
 */

import {inlineZip} from '../cfn-response.js'
import {sdk} from './clients.js'
import {isNotFound, type ProvisionContext, ProvisionError, type ResourceProvider, str} from './types.js'

type Props = Record<string, unknown>

async function codeOf(props: Props): Promise<Record<string, unknown>> {
  const code = (props.Code ?? {}) as Props
  if (code.ZipFile !== undefined) return {ZipFile: await inlineZip(String(props.Runtime ?? 'nodejs'), String(code.ZipFile))}
  if (code.S3Bucket !== undefined) {
    return {
      S3Bucket: String(code.S3Bucket),
      S3Key: str(code.S3Key),
      ...(code.S3ObjectVersion ? {S3ObjectVersion: String(code.S3ObjectVersion)} : {}),
    }
  }
  if (code.ImageUri !== undefined)
    throw new ProvisionError('Container image functions (Code.ImageUri) are not supported by the ncap emulator')
  throw new ProvisionError('Properties validation failed for resource: Code needs ZipFile or S3Bucket and S3Key')
}

const configOf = (props: Props) => ({
  Runtime: str(props.Runtime),
  Handler: str(props.Handler),
  Role: str(props.Role),
  Description: str(props.Description),
  Timeout: props.Timeout === undefined ? undefined : Number(props.Timeout),
  MemorySize: props.MemorySize === undefined ? undefined : Number(props.MemorySize),
  Environment: props.Environment
    ? {
        Variables: Object.fromEntries(
          Object.entries(((props.Environment as Props).Variables ?? {}) as Props).map(([k, v]) => [k, String(v)]),
        ),
      }
    : undefined,
  Layers: Array.isArray(props.Layers) ? props.Layers.map(String) : undefined,
  Architectures: Array.isArray(props.Architectures) ? (props.Architectures.map(String) as never) : undefined,
  EphemeralStorage: props.EphemeralStorage ? {Size: Number((props.EphemeralStorage as Props).Size)} : undefined,
})

/** CloudFormation waits for a new or updated function to be Active before it moves on. */
async function settled(ctx: ProvisionContext, name: string): Promise<Record<string, unknown>> {
  const lambda = await ctx.clients.lambda()
  const {GetFunctionConfigurationCommand} = await sdk.lambda()
  for (let i = 0; ; i++) {
    const config = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: name}))
    if (config.State === 'Failed') throw new ProvisionError(`Function ${name} failed to become active: ${config.StateReason ?? ''}`)
    if ((config.State === undefined || config.State === 'Active') && config.LastUpdateStatus !== 'InProgress') return config as never
    if (i > 2400) throw new ProvisionError(`Function ${name} did not become active`)
    await new Promise((done) => setTimeout(done, 25))
  }
}

export const lambdaFunction: ResourceProvider = {
  replacement: {FunctionName: 'Always', PackageType: 'Always'},
  required: ['Code', 'Role'],
  attributes: ['Arn', 'SnapStartResponse.ApplyOn', 'SnapStartResponse.OptimizationStatus'],
  async create(ctx, props) {
    const lambda = await ctx.clients.lambda()
    const {CreateFunctionCommand} = await sdk.lambda()
    const name = str(props.FunctionName) ?? ctx.generateName({max: 64})
    const tags = Array.isArray(props.Tags) ? Object.fromEntries(props.Tags.map((t) => [String(t.Key), String(t.Value)])) : undefined
    const made = await lambda.send(
      new CreateFunctionCommand({FunctionName: name, Code: (await codeOf(props)) as never, Tags: tags, ...configOf(props)} as never),
    )
    await settled(ctx, name)
    return {physicalId: name, attributes: {Arn: made.FunctionArn}}
  },
  async update(ctx, props, old) {
    const lambda = await ctx.clients.lambda()
    const {UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand} = await sdk.lambda()
    const name = ctx.physicalId!
    const {Code: code, Tags: _tags, ...rest} = props
    const {Code: oldCode, Tags: _oldTags, ...oldRest} = old
    if (JSON.stringify(rest) !== JSON.stringify(oldRest)) {
      await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: name, ...configOf(props)} as never))
      await settled(ctx, name)
    }
    if (JSON.stringify(code) !== JSON.stringify(oldCode)) {
      await lambda.send(new UpdateFunctionCodeCommand({FunctionName: name, ...(await codeOf(props))} as never))
      await settled(ctx, name)
    }
    return {physicalId: name, attributes: ctx.attributes}
  },
  async delete(ctx, name) {
    const lambda = await ctx.clients.lambda()
    const {DeleteFunctionCommand} = await sdk.lambda()
    await lambda.send(new DeleteFunctionCommand({FunctionName: name})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}

export const permission: ResourceProvider = {
  replaceAlways: true,
  required: ['Action', 'FunctionName', 'Principal'],
  attributes: [],
  async create(ctx, props) {
    const lambda = await ctx.clients.lambda()
    const {AddPermissionCommand} = await sdk.lambda()
    const id = ctx.generateName({max: 100})
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: String(props.FunctionName),
        StatementId: id,
        Action: String(props.Action),
        Principal: String(props.Principal),
        SourceArn: str(props.SourceArn),
        SourceAccount: str(props.SourceAccount),
        EventSourceToken: str(props.EventSourceToken),
        PrincipalOrgID: str(props.PrincipalOrgID),
        FunctionUrlAuthType: str(props.FunctionUrlAuthType) as never,
      }),
    )
    return {physicalId: id}
  },
  async delete(ctx, id, props) {
    const lambda = await ctx.clients.lambda()
    const {RemovePermissionCommand} = await sdk.lambda()
    await lambda.send(new RemovePermissionCommand({FunctionName: String(props.FunctionName), StatementId: id})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}
