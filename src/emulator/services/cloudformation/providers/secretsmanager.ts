/**
 * AWS::SecretsManager::Secret over the emulated Secrets Manager, with
 * GenerateSecretString (GetRandomPassword, then SecretStringTemplate and
 * GenerateStringKey) as AWS documents it. Ref returns the ARN. The name
 * replaces; values and the description change in place; delete is immediate
 * (no recovery window), as CloudFormation deletes secrets.
 */
import {sdk} from './clients.js'
import {isNotFound, type ProvisionContext, ProvisionError, type ResourceProvider, str, tagList} from './types.js'

type Props = Record<string, unknown>

async function secretValue(ctx: ProvisionContext, props: Props): Promise<string | undefined> {
  if (props.SecretString !== undefined && props.GenerateSecretString !== undefined) {
    throw new ProvisionError("You can't specify both SecretString and GenerateSecretString")
  }
  if (props.SecretString !== undefined) return String(props.SecretString)
  const spec = props.GenerateSecretString as Props | undefined
  if (!spec) return undefined
  const secrets = await ctx.clients.secrets()
  const {GetRandomPasswordCommand} = await sdk.secrets()
  const flag = (key: string) => (spec[key] === undefined ? undefined : spec[key] === true || spec[key] === 'true')
  const random = await secrets.send(
    new GetRandomPasswordCommand({
      PasswordLength: spec.PasswordLength === undefined ? undefined : Number(spec.PasswordLength),
      ExcludeCharacters: str(spec.ExcludeCharacters),
      ExcludeNumbers: flag('ExcludeNumbers'),
      ExcludePunctuation: flag('ExcludePunctuation'),
      ExcludeUppercase: flag('ExcludeUppercase'),
      ExcludeLowercase: flag('ExcludeLowercase'),
      IncludeSpace: flag('IncludeSpace'),
      RequireEachIncludedType: flag('RequireEachIncludedType'),
    }),
  )
  const password = random.RandomPassword!
  if (spec.SecretStringTemplate === undefined) {
    if (spec.GenerateStringKey !== undefined) throw new ProvisionError('GenerateStringKey needs SecretStringTemplate')
    return password
  }
  let template: Record<string, unknown>
  try {
    template = JSON.parse(String(spec.SecretStringTemplate)) as Record<string, unknown>
  } catch {
    throw new ProvisionError('SecretStringTemplate must be a JSON object')
  }
  if (spec.GenerateStringKey === undefined) throw new ProvisionError('SecretStringTemplate needs GenerateStringKey')
  template[String(spec.GenerateStringKey)] = password
  return JSON.stringify(template)
}

export const secret: ResourceProvider = {
  replacement: {Name: 'Always'},
  attributes: ['Id'],
  async create(ctx, props) {
    const secrets = await ctx.clients.secrets()
    const {CreateSecretCommand} = await sdk.secrets()
    const name = str(props.Name) ?? ctx.generateName({max: 512, separator: '-'})
    const value = await secretValue(ctx, props)
    const made = await secrets.send(
      new CreateSecretCommand({
        Name: name,
        Description: str(props.Description),
        KmsKeyId: str(props.KmsKeyId),
        SecretString: value,
        Tags: tagList(props.Tags),
      }),
    )
    return {physicalId: made.ARN!, attributes: {Id: made.ARN!}}
  },
  async update(ctx, props, old) {
    const secrets = await ctx.clients.secrets()
    const {PutSecretValueCommand, UpdateSecretCommand} = await sdk.secrets()
    const arn = ctx.physicalId!
    if (props.Description !== old.Description || props.KmsKeyId !== old.KmsKeyId) {
      await secrets.send(new UpdateSecretCommand({SecretId: arn, Description: str(props.Description) ?? '', KmsKeyId: str(props.KmsKeyId)}))
    }
    if (JSON.stringify([props.SecretString, props.GenerateSecretString]) !== JSON.stringify([old.SecretString, old.GenerateSecretString])) {
      const value = await secretValue(ctx, props)
      if (value !== undefined) await secrets.send(new PutSecretValueCommand({SecretId: arn, SecretString: value}))
    }
    return {physicalId: arn, attributes: {Id: arn}}
  },
  async delete(ctx, arn) {
    const secrets = await ctx.clients.secrets()
    const {DeleteSecretCommand} = await sdk.secrets()
    await secrets.send(new DeleteSecretCommand({SecretId: arn, ForceDeleteWithoutRecovery: true})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}
