/**
 * Checks against the CloudFormation resource specification, offline: @aws-cdk/aws-service-spec's
 * database (db.json.gz, ~0.3-0.6 s to load), loaded on first use only.
 */
import type {Findings} from './diagnostics.js'
import {didYouMean, withSuggestion} from './diagnostics.js'
import {describe} from './intrinsics.js'
import {isRecord, pathOf} from './json-path.js'
import {isCustomResourceType} from './references.js'

type SpecDatabase = Awaited<ReturnType<typeof import('@aws-cdk/aws-service-spec')['loadAwsServiceSpec']>>
type SpecResource = ReturnType<typeof allResources>[number]
/** Only what the checks need from a property's type: what JSON shape its value has. */
type ValueShape = 'scalar' | 'list' | 'object' | 'any'

export interface ResourceSpec {
  type: string
  properties: Map<string, {required: boolean; shape: ValueShape}>
  attributes: string[]
}

export interface ResourceSpecification {
  resource(type: string): ResourceSpec | undefined
  types(): string[]
}

let loading: Promise<ResourceSpecification> | undefined

export function loadResourceSpecification(): Promise<ResourceSpecification> {
  loading ??= load()
  return loading
}

async function load(): Promise<ResourceSpecification> {
  const {loadAwsServiceSpec} = await import('@aws-cdk/aws-service-spec')
  const db = await loadAwsServiceSpec()
  const byType = new Map<string, SpecResource>()
  for (const resource of allResources(db)) byType.set(resource.cloudFormationType, resource)
  const summaries = new Map<string, ResourceSpec>()
  const types = [...byType.keys()].sort()
  return {
    types: () => types,
    resource(type) {
      const cached = summaries.get(type)
      if (cached) return cached
      const resource = byType.get(type)
      if (!resource) return undefined
      const properties = new Map<string, {required: boolean; shape: ValueShape}>()
      for (const [name, property] of Object.entries(resource.properties)) {
        properties.set(name, {required: property.required === true, shape: shapeOf(property.type.type)})
      }
      const summary = {type, properties, attributes: Object.keys(resource.attributes).sort()}
      summaries.set(type, summary)
      return summary
    },
  }
}

function allResources(db: SpecDatabase) {
  return db.all('resource')
}

function shapeOf(kind: string): ValueShape {
  if (kind === 'array') return 'list'
  if (kind === 'ref' || kind === 'map' || kind === 'tag') return 'object'
  if (kind === 'string' || kind === 'number' || kind === 'integer' || kind === 'boolean' || kind === 'date-time') return 'scalar'
  return 'any' // json, union
}

/** A value whose shape is only known once CloudFormation evaluates it. */
function isIntrinsic(value: unknown): boolean {
  if (!isRecord(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))
}

function shapeMismatch(expected: ValueShape, value: unknown): boolean {
  if (expected === 'any' || isIntrinsic(value) || value === null) return false
  if (expected === 'list') return !Array.isArray(value)
  if (expected === 'object') return !isRecord(value)
  return typeof value === 'object'
}

const SHAPE_WORDS: Record<ValueShape, string> = {
  scalar: 'a string, number or boolean',
  list: 'a list',
  object: 'an object',
  any: 'any value',
}

export function checkResourcesAgainstSpec(template: Record<string, unknown>, spec: ResourceSpecification, findings: Findings): void {
  const resources = isRecord(template.Resources) ? template.Resources : {}
  for (const [id, resource] of Object.entries(resources)) {
    if (!isRecord(resource) || typeof resource.Type !== 'string' || resource.Type === '') continue
    const type = resource.Type
    const properties = isRecord(resource.Properties) ? resource.Properties : {}
    if (isCustomResourceType(type)) {
      if (!Object.hasOwn(properties, 'ServiceToken')) {
        findings.error({
          path: pathOf('Resources', id, 'Properties'),
          rule: 'required-property',
          message: `Custom resource ${id} needs a ServiceToken`,
          expected: 'ServiceToken (a Lambda function or SNS topic ARN)',
        })
      }
      continue
    }
    const known = spec.resource(type)
    if (!known) {
      const hint = didYouMean(type, spec.types())
      findings.error({
        path: pathOf('Resources', id, 'Type'),
        rule: 'resource-type',
        ...withSuggestion(`Unknown resource type ${type} (not in the CloudFormation resource specification)`, hint),
        found: type,
      })
      continue
    }
    checkProperties(id, known, properties, findings)
  }
}

function checkProperties(id: string, spec: ResourceSpec, properties: Record<string, unknown>, findings: Findings): void {
  for (const [name, value] of Object.entries(properties)) {
    const property = spec.properties.get(name)
    const path = pathOf('Resources', id, 'Properties', name)
    if (!property) {
      const hint = didYouMean(name, spec.properties.keys())
      findings.error({path, rule: 'unknown-property', ...withSuggestion(`${spec.type} has no property ${name}`, hint), found: name})
      continue
    }
    if (shapeMismatch(property.shape, value)) {
      findings.error({
        path,
        rule: 'property-type',
        message: `${spec.type} property ${name} takes ${SHAPE_WORDS[property.shape]}`,
        expected: SHAPE_WORDS[property.shape],
        found: describe(value),
      })
    }
  }
  for (const [name, property] of spec.properties) {
    if (!property.required || Object.hasOwn(properties, name)) continue
    findings.error({
      path: pathOf('Resources', id, 'Properties'),
      rule: 'required-property',
      message: `${spec.type} ${id} is missing required property ${name}`,
      expected: name,
    })
  }
}
