/**
 * Pipeline -> CloudFormation. Pure and deterministic: the same Pipeline gives the
 * same templates, byte for byte. Plain CloudFormation (no SAM transform), so AWS
 * and ncap's own engine read the same thing; Lambda code comes in as asset
 * parameters that `ncap deploy` fills.
 */
import type {Pipeline} from '../config/model.js'
import {IdentityIds, type IdentityUnit, identityUnits, unitContent} from './identity.js'
import {addInstanceIdentity, addPostProcess, addSubmit} from './jobs.js'
import {addMonitor} from './monitoring.js'
import {checkQuotas, quotaViolations, splitIdentity} from './nested.js'
import {addBucket, addFolders, BUCKET_ID} from './storage.js'
import {type CompiledStack, QUOTAS, ref, type Template, TemplateParts} from './types.js'

export const CAPABILITIES = ['CAPABILITY_NAMED_IAM']

function jobParts(pipeline: Pipeline, notes: string[]): TemplateParts {
  const parts = new TemplateParts()
  addFolders(parts, pipeline)
  const monitorArn = addMonitor(parts, pipeline)
  const instance = addInstanceIdentity(parts, pipeline)
  const submit = addSubmit(parts, pipeline, {instance, monitorArn})
  const post = addPostProcess(parts, pipeline, notes)
  addBucket(parts, pipeline, [...submit.notifications, ...post.notifications], [...submit.permissionIds, ...post.permissionIds])
  return parts
}

function assembleMain(pipeline: Pipeline, parts: TemplateParts, extra: {resources?: Record<string, unknown>; nested: boolean}): Template {
  // The bucket first: it is what a reader looks for.
  const {[BUCKET_ID]: bucket, ...others} = parts.resources
  const assets: Record<string, string> = {}
  for (const resource of Object.values(parts.resources)) {
    const asset = resource.Metadata?.['ncap:asset']
    const key = (resource.Properties?.Code as {S3Key?: {Ref?: string}} | undefined)?.S3Key?.Ref
    if (typeof asset === 'string' && key) assets[key] = asset
  }
  const template: Template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ncap pipeline ${pipeline.name}: bucket, users and job functions`,
    Metadata: {ncap: {pipeline: pipeline.name, capabilities: CAPABILITIES, assets, nestedStacks: extra.nested}},
    Parameters: parts.parameters,
    Resources: {...(bucket ? {[BUCKET_ID]: bucket} : {}), ...others, ...(extra.resources as Template['Resources'])},
    Outputs: {...(parts.outputs.BucketName ? {BucketName: parts.outputs.BucketName} : {}), ...parts.outputs},
  }
  return template
}

export function compilePipeline(pipeline: Pipeline): CompiledStack {
  const notes: string[] = []
  const ids = new IdentityIds()

  // First try one template holding everything, when the counts alone do not rule it out.
  const single = jobParts(pipeline, notes)
  const units = identityUnits(pipeline)
  if (fitsByCount(single, units)) {
    const whole = singleTemplate(pipeline, ids, single, units)
    if (quotaViolations(whole).length === 0) return {main: whole, nested: {}, notes}
  }

  // Too big: identity goes into nested stacks, each within the quotas.
  const split = splitIdentity(pipeline, ids, units)
  const main = assembleMain(pipeline, jobParts(pipeline, []), {resources: split.stackResources, nested: true})
  checkQuotas(main, 'compiled_template.json')
  const count = Object.keys(split.templates).length
  notes.push(`identity split into ${count} nested stack${count === 1 ? '' : 's'} (compiled_nested/) to stay within CloudFormation's quotas`)
  return {main, nested: split.templates, notes}
}

const RESOURCES_PER_USER = 4
const OUTPUTS_PER_USER = 2

function fitsByCount(parts: TemplateParts, units: IdentityUnit[]): boolean {
  let resources = Object.keys(parts.resources).length
  let outputs = Object.keys(parts.outputs).length
  for (const unit of units) {
    resources += unit.kind === 'user' ? RESOURCES_PER_USER : unit.existingUsers.length > 0 ? 2 : 1
    outputs += unit.kind === 'user' ? OUTPUTS_PER_USER : 0
  }
  return resources <= QUOTAS.resources && outputs <= QUOTAS.outputs
}

function singleTemplate(pipeline: Pipeline, ids: IdentityIds, parts: TemplateParts, units: IdentityUnit[]): Template {
  const identity = new TemplateParts()
  for (const unit of units) {
    const content = unitContent({pipeline, ids, bucket: {variable: BUCKET_ID}, groupName: (g) => ref(ids.groupId(g))}, unit)
    for (const [id, resource] of Object.entries(content.resources)) identity.resource(id, resource)
    for (const [id, output] of Object.entries(content.outputs)) identity.output(id, output)
  }
  const whole = assembleMain(pipeline, parts, {resources: identity.resources, nested: false})
  whole.Outputs = {...whole.Outputs, ...identity.outputs}
  return whole
}
