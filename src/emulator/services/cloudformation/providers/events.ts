/** AWS::Events::Rule over the emulated EventBridge: name and bus replace; pattern, schedule, state and targets change in place. */
import {sdk} from './clients.js'
import {isNotFound, json, type ProvisionContext, type ResourceProvider, str} from './types.js'

type Props = Record<string, unknown>

const targetsOf = (props: Props) =>
  ((props.Targets as Props[] | undefined) ?? []).map((t) => ({
    Id: String(t.Id),
    Arn: String(t.Arn),
    RoleArn: str(t.RoleArn),
    Input: str(t.Input),
    InputPath: str(t.InputPath),
    InputTransformer: t.InputTransformer
      ? {
          InputPathsMap: (t.InputTransformer as Props).InputPathsMap as Record<string, string> | undefined,
          InputTemplate: String((t.InputTransformer as Props).InputTemplate),
        }
      : undefined,
  }))

async function put(ctx: ProvisionContext, name: string, props: Props, old?: Props): Promise<string> {
  const events = await ctx.clients.events()
  const {PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand} = await sdk.events()
  const bus = str(props.EventBusName)
  const made = await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: bus,
      ScheduleExpression: str(props.ScheduleExpression),
      EventPattern: json(props.EventPattern),
      State: (str(props.State) ?? 'ENABLED') as 'ENABLED',
      Description: str(props.Description),
      RoleArn: str(props.RoleArn),
    }),
  )
  const targets = targetsOf(props)
  const gone = targetsOf(old ?? {})
    .map((t) => t.Id)
    .filter((id) => !targets.some((t) => t.Id === id))
  if (gone.length > 0) await events.send(new RemoveTargetsCommand({Rule: name, EventBusName: bus, Ids: gone}))
  if (targets.length > 0) {
    const result = await events.send(new PutTargetsCommand({Rule: name, EventBusName: bus, Targets: targets}))
    if (result.FailedEntryCount)
      throw new Error(`PutTargets failed: ${result.FailedEntries?.map((e) => `${e.TargetId}: ${e.ErrorMessage}`).join('; ')}`)
  }
  return made.RuleArn!
}

export const rule: ResourceProvider = {
  replacement: {Name: 'Always', EventBusName: 'Always'},
  attributes: ['Arn'],
  async create(ctx, props) {
    const name = str(props.Name) ?? ctx.generateName({max: 64})
    const arn = await put(ctx, name, props)
    const bus = str(props.EventBusName)
    return {physicalId: bus && bus !== 'default' ? `${bus}|${name}` : name, attributes: {Arn: arn}}
  },
  async update(ctx, props, old) {
    const name = ctx.physicalId!.split('|').pop()!
    const arn = await put(ctx, name, props, old)
    return {physicalId: ctx.physicalId!, attributes: {Arn: arn}}
  },
  async delete(ctx, physicalId, props) {
    const events = await ctx.clients.events()
    const {DeleteRuleCommand, ListTargetsByRuleCommand, RemoveTargetsCommand} = await sdk.events()
    const name = physicalId.split('|').pop()!
    const bus = str(props.EventBusName)
    try {
      const targets = await events.send(new ListTargetsByRuleCommand({Rule: name, EventBusName: bus}))
      const ids = (targets.Targets ?? []).map((t) => t.Id!)
      if (ids.length > 0) await events.send(new RemoveTargetsCommand({Rule: name, EventBusName: bus, Ids: ids}))
      await events.send(new DeleteRuleCommand({Name: name, EventBusName: bus}))
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  },
}
