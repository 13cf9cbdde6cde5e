/** AWS::Logs::LogGroup over the emulated CloudWatch Logs: the name replaces; retention and tags change in place. */
import {sdk} from './clients.js'
import {isNotFound, type ResourceProvider, str} from './types.js'

export const logGroup: ResourceProvider = {
  replacement: {LogGroupName: 'Always'},
  attributes: ['Arn'],
  async create(ctx, props) {
    const logs = await ctx.clients.logs()
    const {CreateLogGroupCommand, PutRetentionPolicyCommand} = await sdk.logs()
    const name = str(props.LogGroupName) ?? ctx.generateName({max: 512})
    const tags = Array.isArray(props.Tags) ? Object.fromEntries(props.Tags.map((t) => [String(t.Key), String(t.Value)])) : undefined
    await logs.send(new CreateLogGroupCommand({logGroupName: name, kmsKeyId: str(props.KmsKeyId), tags}))
    if (props.RetentionInDays !== undefined) {
      await logs.send(new PutRetentionPolicyCommand({logGroupName: name, retentionInDays: Number(props.RetentionInDays)}))
    }
    return {physicalId: name, attributes: {Arn: `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}:*`}}
  },
  async update(ctx, props, old) {
    const logs = await ctx.clients.logs()
    const {PutRetentionPolicyCommand, DeleteRetentionPolicyCommand} = await sdk.logs()
    const name = ctx.physicalId!
    if (props.RetentionInDays !== old.RetentionInDays) {
      if (props.RetentionInDays === undefined) await logs.send(new DeleteRetentionPolicyCommand({logGroupName: name}))
      else await logs.send(new PutRetentionPolicyCommand({logGroupName: name, retentionInDays: Number(props.RetentionInDays)}))
    }
    return {physicalId: name, attributes: ctx.attributes}
  },
  async delete(ctx, name) {
    const logs = await ctx.clients.logs()
    const {DeleteLogGroupCommand} = await sdk.logs()
    await logs.send(new DeleteLogGroupCommand({logGroupName: name})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}
