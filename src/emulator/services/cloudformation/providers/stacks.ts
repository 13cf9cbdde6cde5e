/**
 * AWS::CloudFormation::Stack (a nested stack: created, updated and deleted by
 * the engine itself, its outputs read as Outputs.X) and custom resources
 * (Custom::*, AWS::CloudFormation::CustomResource: a request to the function
 * named by ServiceToken, the response awaited on a presigned S3 URL).
 */
import type {ResourceProvider} from './types.js'

export const nestedStack: ResourceProvider = {
  required: ['TemplateURL'],
  attributes: ['*'],
  async create(ctx, props) {
    const made = await ctx.engine.nestedStack('create', ctx, props)
    return {physicalId: made.stackId, attributes: outputsAsAttributes(made.outputs)}
  },
  async update(ctx, props) {
    const made = await ctx.engine.nestedStack('update', ctx, props)
    return {physicalId: made.stackId, attributes: outputsAsAttributes(made.outputs)}
  },
  async delete(ctx, _physicalId, props) {
    await ctx.engine.nestedStack('delete', ctx, props)
  },
}

const outputsAsAttributes = (outputs: Record<string, string>) =>
  Object.fromEntries(Object.entries(outputs).map(([key, value]) => [`Outputs.${key}`, value]))

export const customResource: ResourceProvider = {
  required: ['ServiceToken'],
  attributes: ['*'],
  async create(ctx, props) {
    const answer = await ctx.engine.customResource('Create', ctx, props)
    return {physicalId: answer.physicalId, attributes: answer.data}
  },
  async update(ctx, props, old) {
    const answer = await ctx.engine.customResource('Update', ctx, props, old)
    return {physicalId: answer.physicalId, attributes: answer.data}
  },
  async delete(ctx, _physicalId, props) {
    await ctx.engine.customResource('Delete', ctx, props)
  },
}
