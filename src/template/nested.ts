/**
 * Spreading a large pipeline's identity (groups and users) over nested stacks,
 * each within CloudFormation's quotas. Groups are placed before users, so a
 * template of users depends only on templates of groups (never the reverse): a
 * user whose group sits in another template names it by its physical name, and
 * the main stack orders the two nested stacks with DependsOn.
 */
import type {Pipeline} from '../config/model.js'
import {NcapError} from '../errors.js'
import {groupPhysicalName, type IdentityIds, type IdentityUnit, unitContent} from './identity.js'
import {serializeTemplate} from './serialize.js'
import {BUCKET_ID} from './storage.js'
import {NESTED_DIR, type Output, QUOTAS, type Resource, ref, type Template} from './types.js'

/** Headroom under the body quota for the estimate's error (indentation, parameters, description). */
const BODY_BUDGET = Math.floor(QUOTAS.bodyBytes * 0.9)
const BUCKET_PARAMETER = 'BucketName'

export interface NestedIdentity {
  /** File name relative to the config folder -> template. */
  templates: Record<string, Template>
  /** The AWS::CloudFormation::Stack resources for the main template. */
  stackResources: Record<string, Resource>
}

/** Serialized size of a unit's content as it will sit two levels deep in a template. */
function estimateBytes(content: {resources: Record<string, Resource>; outputs: Record<string, Output>}): number {
  let bytes = 0
  for (const section of [content.resources, content.outputs]) {
    const text = JSON.stringify(section, null, 2)
    bytes += text.length + text.split('\n').length * 2
  }
  return bytes
}

function pack(pipeline: Pipeline, ids: IdentityIds, units: IdentityUnit[]): IdentityUnit[][] {
  const stacks: IdentityUnit[][] = []
  let current: IdentityUnit[] = []
  let resources = 0
  let outputs = 0
  let bytes = 0
  for (const unit of units) {
    const content = unitContent(
      {pipeline, ids, bucket: {variable: BUCKET_PARAMETER}, groupName: (g) => groupPhysicalName(pipeline, g)},
      unit,
    )
    const r = Object.keys(content.resources).length
    const o = Object.keys(content.outputs).length
    const b = estimateBytes(content)
    if (current.length > 0 && (resources + r > QUOTAS.resources || outputs + o > QUOTAS.outputs || bytes + b > BODY_BUDGET)) {
      stacks.push(current)
      current = []
      resources = 0
      outputs = 0
      bytes = 0
    }
    current.push(unit)
    resources += r
    outputs += o
    bytes += b
  }
  if (current.length > 0) stacks.push(current)
  return stacks
}

export function nestedFile(index: number): string {
  return `${NESTED_DIR}/Identity${index}.json`
}

export function splitIdentity(pipeline: Pipeline, ids: IdentityIds, units: IdentityUnit[]): NestedIdentity {
  const stacks = pack(pipeline, ids, units)
  const groupStack = new Map<string, number>()
  stacks.forEach((units, index) => {
    for (const unit of units) if (unit.kind === 'group') groupStack.set(unit.group.name, index)
  })
  const templates: Record<string, Template> = {}
  const stackResources: Record<string, Resource> = {}
  stacks.forEach((units, index) => {
    const number = index + 1
    const dependsOn = new Set<number>()
    const groupName = (group: string): unknown => {
      const home = groupStack.get(group)
      if (home === undefined) throw new Error(`group ${group} was not placed`)
      if (home === index) return ref(ids.groupId(group))
      dependsOn.add(home + 1)
      return groupPhysicalName(pipeline, group)
    }
    // Only groups' policies name the bucket; templates of users alone take no parameter.
    const hasGroups = units.some((unit) => unit.kind === 'group')
    const template: Template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `ncap ${pipeline.name}: identity, part ${number} of ${stacks.length}`,
      ...(hasGroups ? {Parameters: {[BUCKET_PARAMETER]: {Type: 'String', Description: 'The pipeline bucket'}}} : {}),
      Resources: {},
      Outputs: {},
    }
    for (const unit of units) {
      const content = unitContent({pipeline, ids, bucket: {variable: BUCKET_PARAMETER}, groupName}, unit)
      Object.assign(template.Resources, content.resources)
      Object.assign(template.Outputs!, content.outputs)
    }
    if (Object.keys(template.Outputs!).length === 0) delete template.Outputs
    checkQuotas(template, nestedFile(number))
    templates[nestedFile(number)] = template
    stackResources[`Identity${number}`] = {
      Type: 'AWS::CloudFormation::Stack',
      ...(dependsOn.size > 0 ? {DependsOn: [...dependsOn].sort((a, b) => a - b).map((n) => `Identity${n}`)} : {}),
      Properties: {TemplateURL: nestedFile(number), ...(hasGroups ? {Parameters: {[BUCKET_PARAMETER]: ref(BUCKET_ID)}} : {})},
    }
  })
  return {templates, stackResources}
}

export interface QuotaUse {
  resources: number
  outputs: number
  parameters: number
  bodyBytes: number
}

export function quotaUse(template: Template): QuotaUse {
  return {
    resources: Object.keys(template.Resources).length,
    outputs: Object.keys(template.Outputs ?? {}).length,
    parameters: Object.keys(template.Parameters ?? {}).length,
    bodyBytes: Buffer.byteLength(serializeTemplate(template)),
  }
}

/** The quotas a template breaks, as sentences; empty when it fits. */
export function quotaViolations(template: Template): string[] {
  const use = quotaUse(template)
  const broken: string[] = []
  for (const key of ['resources', 'outputs', 'parameters', 'bodyBytes'] as const) {
    if (use[key] > QUOTAS[key]) broken.push(`${use[key]} ${key === 'bodyBytes' ? 'bytes' : key} (CloudFormation allows ${QUOTAS[key]})`)
  }
  return broken
}

export function checkQuotas(template: Template, name: string): void {
  const broken = quotaViolations(template)
  if (broken.length > 0) {
    throw new NcapError(`${name} would exceed CloudFormation's quotas: ${broken.join(', ')}`, {code: 'TemplateQuotaExceeded', exitCode: 2})
  }
}
