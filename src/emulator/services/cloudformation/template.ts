/**
 * Templates: JSON or YAML (with CloudFormation's short-form tags) parsed into
 * one plain shape, checked the way CloudFormation checks a template before it
 * creates anything (sections, resource types, references, the dependency
 * graph and its cycles), and the references each resource makes.
 */
import {AwsError} from '../../errors.js'
import {isSupportedResourceType, unsupportedTypeMessage} from './supported.js'

export interface TemplateResource {
  Type: string
  Properties?: Record<string, unknown>
  DependsOn?: string | string[]
  Condition?: string
  DeletionPolicy?: string
  UpdateReplacePolicy?: string
  Metadata?: unknown
}

export interface TemplateParameter {
  Type: string
  Default?: unknown
  AllowedValues?: unknown[]
  AllowedPattern?: string
  MinLength?: number | string
  MaxLength?: number | string
  MinValue?: number | string
  MaxValue?: number | string
  NoEcho?: boolean | string
  Description?: string
  ConstraintDescription?: string
}

export interface TemplateOutput {
  Value: unknown
  Description?: string
  Condition?: string
  Export?: {Name: unknown}
}

export interface Template {
  AWSTemplateFormatVersion?: string
  Description?: string
  Metadata?: unknown
  Parameters?: Record<string, TemplateParameter>
  Mappings?: Record<string, Record<string, Record<string, unknown>>>
  Conditions?: Record<string, unknown>
  Transform?: unknown
  Resources: Record<string, TemplateResource>
  Outputs?: Record<string, TemplateOutput>
}

export const validationError = (message: string) => new AwsError('ValidationError', message, 400)

const SHORT_FORMS = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'And',
  'Or',
  'Not',
  'FindInMap',
  'GetAZs',
  'Base64',
  'Cidr',
  'ImportValue',
  'Condition',
  'Transform',
] as const

let yamlTags: unknown[] | undefined

function customTags(): unknown[] {
  if (yamlTags) return yamlTags
  const tags: unknown[] = []
  for (const name of SHORT_FORMS) {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`
    for (const collection of [undefined, 'seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve(value: unknown) {
          let v = collection ? (value as {toJSON(): unknown}).toJSON() : value
          if (name === 'GetAtt' && typeof v === 'string') {
            const dot = v.indexOf('.')
            v = dot === -1 ? [v] : [v.slice(0, dot), v.slice(dot + 1)]
          }
          return {[key]: v}
        },
      })
    }
  }
  yamlTags = tags
  return tags
}

/** Parses a template body: JSON when it is JSON, else YAML with the short-form tags. */
export async function parseTemplateBody(body: string): Promise<Template> {
  const trimmed = body.trimStart()
  let parsed: unknown
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(body)
    } catch (error) {
      throw validationError(`Template format error: JSON not well-formed. (${(error as Error).message})`)
    }
  } else {
    const {parse} = await import('yaml')
    try {
      parsed = parse(body, {customTags: customTags() as never, uniqueKeys: true, maxAliasCount: 1000})
    } catch (error) {
      throw validationError(`Template format error: YAML not well-formed. (${(error as Error).message.split('\n')[0]})`)
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw validationError('Template format error: the template is not a JSON or YAML object')
  }
  return parsed as Template
}

const TOP_LEVEL = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Rules',
])

const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
])

export const isPseudo = (name: string) => PSEUDO.has(name)

const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
])

/** Names a string of Fn::Sub refers to: `${Name}` and `${Name.Attr}`, not `${!Literal}`. */
export function subReferences(text: string): string[] {
  const out: string[] = []
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = match[1]!.trim()
    if (inner.startsWith('!')) continue
    out.push(inner)
  }
  return out
}

/** Every resource or parameter name a value refers to (Ref, GetAtt, Sub), with the condition names it tests. */
export function collectReferences(value: unknown, into: Set<string>, conditions?: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, into, conditions)
    return
  }
  if (!value || typeof value !== 'object') return
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length === 1) {
    const key = keys[0]!
    const arg = record[key]
    if (key === 'Ref' && typeof arg === 'string') {
      into.add(arg)
      return
    }
    if (key === 'Fn::GetAtt') {
      const target = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? arg.split('.')[0] : undefined
      if (typeof target === 'string') into.add(target)
      if (Array.isArray(arg)) collectReferences(arg.slice(1), into, conditions)
      return
    }
    if (key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1] as Record<string, unknown> | undefined] : [arg, undefined]
      if (typeof text === 'string') {
        for (const name of subReferences(text)) {
          const head = name.split('.')[0]!
          if (vars && head in vars) continue
          into.add(name.includes('.') && !name.startsWith('AWS::') ? head : name)
        }
      }
      if (vars) collectReferences(Object.values(vars), into, conditions)
      return
    }
    if (key === 'Fn::If' && Array.isArray(arg)) {
      if (typeof arg[0] === 'string') conditions?.add(arg[0])
      collectReferences(arg.slice(1), into, conditions)
      return
    }
    if (key === 'Condition' && typeof arg === 'string') {
      conditions?.add(arg)
      return
    }
  }
  for (const key of keys) collectReferences(record[key], into, conditions)
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/** The resources a resource depends on: its references to other resources and its DependsOn. */
export function dependenciesOf(template: Template, logicalId: string): string[] {
  const resource = template.Resources[logicalId]!
  const refs = new Set<string>()
  collectReferences(resource.Properties, refs)
  const deps = new Set<string>()
  for (const name of refs) if (name !== logicalId && template.Resources[name]) deps.add(name)
  for (const name of asList(resource.DependsOn)) deps.add(name)
  return [...deps]
}

/** Refuses a cycle with its path (A -> B -> A), as CloudFormation's "Circular dependency between resources". */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>()
  const stack: string[] = []
  const visit = (node: string): string[] | undefined => {
    state.set(node, 1)
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next)
      if (seen === 1) return [...stack.slice(stack.indexOf(next)), next]
      if (seen === undefined) {
        const found = visit(next)
        if (found) return found
      }
    }
    stack.pop()
    state.set(node, 2)
    return undefined
  }
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node)
      if (found) return found
    }
  }
  return undefined
}

/** The dependency graph of a template's resources (logical id → the ids it depends on). */
export function dependencyGraph(template: Template): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const id of Object.keys(template.Resources)) graph.set(id, dependenciesOf(template, id))
  return graph
}

/**
 * Checks a template as CloudFormation does before it creates anything: its
 * sections, every resource's type (unsupported types named), references to
 * names that exist, DependsOn targets, conditions, and a graph without cycles.
 */
export function checkTemplate(template: Template): void {
  for (const key of Object.keys(template)) {
    if (!TOP_LEVEL.has(key)) throw validationError(`Template format error: Invalid template property or properties [${key}]`)
  }
  if (template.AWSTemplateFormatVersion !== undefined && String(template.AWSTemplateFormatVersion) !== '2010-09-09') {
    throw validationError(
      `Template format error: '${template.AWSTemplateFormatVersion}' is not a valid template version. Valid: 2010-09-09`,
    )
  }
  if (template.Transform !== undefined) {
    const names = (Array.isArray(template.Transform) ? template.Transform : [template.Transform]).map(String)
    throw validationError(`Transform ${names.join(', ')} is not supported by the ncap emulator (it expands no macros)`)
  }
  const resources = template.Resources
  if (!resources || typeof resources !== 'object' || Object.keys(resources).length === 0) {
    throw validationError('Template format error: At least one Resources member must be defined.')
  }
  const parameters = template.Parameters ?? {}
  const conditions = template.Conditions ?? {}
  for (const [id, resource] of Object.entries(resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id)) throw validationError(`Template format error: Resource name ${id} is non alphanumeric.`)
    if (!resource || typeof resource !== 'object' || typeof resource.Type !== 'string') {
      throw validationError(`Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`)
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_ATTRIBUTES.has(key)) throw validationError(`Invalid template resource property '${key}'`)
    }
    if (parameters[id]) throw validationError(`Template format error: Resource name ${id} is already used as a parameter`)
  }
  const unsupported = [...new Set(Object.values(resources).map((r) => r.Type))].filter((type) => !isSupportedResourceType(type))
  if (unsupported.length > 0) throw validationError(unsupported.map(unsupportedTypeMessage).join('; '))
  for (const [id, parameter] of Object.entries(parameters)) {
    if (!parameter || typeof parameter.Type !== 'string') {
      throw validationError(`Template format error: Every Parameters object must contain a Type member. (${id})`)
    }
  }
  const known = (name: string) => isPseudo(name) || name in parameters || name in resources
  const checkRefs = (where: string, value: unknown, allowResources = true) => {
    const refs = new Set<string>()
    const used = new Set<string>()
    collectReferences(value, refs, used)
    for (const name of refs) {
      const head = name.startsWith('AWS::') ? name : name.split('.')[0]!
      if (!known(head) || (!allowResources && head in resources)) {
        throw validationError(`Template format error: Unresolved resource dependencies [${head}] in the ${where} block of the template`)
      }
    }
    for (const name of used) {
      if (!(name in conditions)) throw validationError(`Template format error: Unresolved condition dependency ${name} in ${where}`)
    }
  }
  checkRefs('Conditions', conditions, false)
  for (const [id, resource] of Object.entries(resources)) {
    checkRefs('Resources', resource.Properties)
    for (const dep of asList(resource.DependsOn)) {
      if (!resources[dep])
        throw validationError(`Template format error: Unresolved resource dependencies [${dep}] in the Resources block of the template`)
    }
    if (resource.Condition !== undefined && !(resource.Condition in conditions)) {
      throw validationError(`Template format error: Unresolved condition dependency ${resource.Condition} in Resources/${id}`)
    }
    for (const policy of [resource.DeletionPolicy, resource.UpdateReplacePolicy]) {
      if (policy !== undefined && !['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'].includes(policy)) {
        throw validationError(`Template format error: Unrecognized DeletionPolicy ${policy} for resource ${id}`)
      }
    }
  }
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (!output || output.Value === undefined)
      throw validationError(`Template format error: Every Outputs member must contain a Value object (${name})`)
    checkRefs('Outputs', output)
  }
  const cycle = findCycle(dependencyGraph(template))
  if (cycle) throw validationError(`Circular dependency between resources: [${cycle.slice(0, -1).join(', ')}] (${cycle.join(' -> ')})`)
}

/** IAM resource types (CAPABILITY_IAM), and the property that names one (CAPABILITY_NAMED_IAM). */
export const IAM_NAME_PROPERTY: Record<string, string | undefined> = {
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::Policy': undefined,
  'AWS::IAM::AccessKey': undefined,
  'AWS::IAM::UserToGroupAddition': undefined,
}

/** The capabilities a template needs: CAPABILITY_IAM for IAM resources, CAPABILITY_NAMED_IAM when one is named. */
export function requiredCapabilities(template: Template): string[] {
  let iam = false
  let named = false
  for (const resource of Object.values(template.Resources)) {
    if (!(resource.Type in IAM_NAME_PROPERTY)) continue
    iam = true
    const prop = IAM_NAME_PROPERTY[resource.Type]
    if (prop && resource.Properties?.[prop] !== undefined) named = true
  }
  return named ? ['CAPABILITY_NAMED_IAM'] : iam ? ['CAPABILITY_IAM'] : []
}
