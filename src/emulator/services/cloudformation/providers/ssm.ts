/** AWS::SSM::Parameter over the emulated SSM: the name replaces; value, type and description change in place. */
import {sdk} from './clients.js'
import {isNotFound, type ProvisionContext, ProvisionError, type ResourceProvider, str} from './types.js'

type Props = Record<string, unknown>

async function put(ctx: ProvisionContext, name: string, props: Props, overwrite: boolean): Promise<void> {
  const type = str(props.Type)
  if (type === 'SecureString')
    throw new ProvisionError('SecureString parameters cannot be created by CloudFormation (AWS refuses them too)')
  const ssm = await ctx.clients.ssm()
  const {PutParameterCommand} = await sdk.ssm()
  const tags =
    props.Tags && typeof props.Tags === 'object'
      ? Object.entries(props.Tags as Props).map(([Key, Value]) => ({Key, Value: String(Value)}))
      : undefined
  await ssm.send(
    new PutParameterCommand({
      Name: name,
      Value: String(props.Value),
      Type: (type ?? 'String') as 'String',
      Description: str(props.Description),
      AllowedPattern: str(props.AllowedPattern),
      Tier: str(props.Tier) as never,
      DataType: str(props.DataType),
      Overwrite: overwrite || undefined,
      ...(overwrite ? {} : {Tags: tags}),
    }),
  )
}

export const parameter: ResourceProvider = {
  replacement: {Name: 'Always'},
  required: ['Type', 'Value'],
  attributes: ['Type', 'Value'],
  async create(ctx, props) {
    const name = str(props.Name) ?? `CFN-${ctx.generateName({max: 1000}).slice(ctx.stackName.length + 1)}`
    await put(ctx, name, props, false)
    return {physicalId: name, attributes: {Type: str(props.Type) ?? 'String', Value: String(props.Value)}}
  },
  async update(ctx, props) {
    await put(ctx, ctx.physicalId!, props, true)
    return {physicalId: ctx.physicalId!, attributes: {Type: str(props.Type) ?? 'String', Value: String(props.Value)}}
  },
  async delete(ctx, name) {
    const ssm = await ctx.clients.ssm()
    const {DeleteParameterCommand} = await sdk.ssm()
    await ssm.send(new DeleteParameterCommand({Name: name})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}
