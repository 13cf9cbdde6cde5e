/**
 * Finds every reference a CloudFormation template makes (Ref, Fn::GetAtt, Fn::Sub variables,
 * DependsOn, Condition names) with the JSON path where it is made. The linter checks them; the
 * graph draws the ones between resources.
 */
import {childPath, isRecord, pathOf} from './json-path.js'

export type ReferenceKind = 'ref' | 'getatt' | 'sub' | 'dependsOn' | 'condition' | 'mapping'

export interface TemplateReference {
  kind: ReferenceKind
  /** Where the reference is made: the section and logical id holding it. */
  section: string
  owner: string
  /** The logical id (or pseudo parameter, or condition name) referred to. */
  target: string
  /** For GetAtt, and for `${Res.Attr}` in Fn::Sub. */
  attribute?: string
  /** For Fn::FindInMap: the literal top-level and second-level keys, when they are literal. */
  keys?: string[]
  /** GetAtt whose attribute name is itself an intrinsic (["Res", {"Ref": "P"}]): known only at deploy time. */
  computedAttribute?: boolean
  path: string
}

/** A shape that is not a valid intrinsic call, found while collecting. */
export interface MalformedIntrinsic {
  path: string
  message: string
  expected: string
  found: string
}

export interface CollectedReferences {
  references: TemplateReference[]
  malformed: MalformedIntrinsic[]
}

interface Site {
  section: string
  owner: string
}

/** `${Name}`, `${Res.Attr}`; `${!Literal}` is an escape and names nothing. */
const SUB_VARIABLE = /\$\{([^}]*)\}/g

export function subVariables(text: string): string[] {
  const names: string[] = []
  for (const match of text.matchAll(SUB_VARIABLE)) {
    const name = (match[1] ?? '').trim()
    if (!name.startsWith('!')) names.push(name)
  }
  return names
}

/** Fn::GetAtt in both forms: ["Res", "Attr"] and "Res.Attr" (the attribute may itself contain dots). */
export function splitGetAtt(value: unknown): {resource: string; attribute?: string} | undefined {
  if (typeof value === 'string') {
    const dot = value.indexOf('.')
    return dot < 0 ? {resource: value} : {resource: value.slice(0, dot), attribute: value.slice(dot + 1)}
  }
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string') {
    return typeof value[1] === 'string' ? {resource: value[0], attribute: value[1]} : {resource: value[0]}
  }
  return undefined
}

export function collectReferences(template: Record<string, unknown>): CollectedReferences {
  const out: CollectedReferences = {references: [], malformed: []}
  const resources = template.Resources
  if (isRecord(resources)) {
    for (const [id, resource] of Object.entries(resources)) {
      if (!isRecord(resource)) continue
      const site = {section: 'Resources', owner: id}
      const base = pathOf('Resources', id)
      walk(resource.Properties, childPath(base, 'Properties'), site, false, out)
      walkDependsOn(resource.DependsOn, childPath(base, 'DependsOn'), site, out)
      if (typeof resource.Condition === 'string') {
        out.references.push({kind: 'condition', ...site, target: resource.Condition, path: childPath(base, 'Condition')})
      }
    }
  }
  const outputs = template.Outputs
  if (isRecord(outputs)) {
    for (const [id, output] of Object.entries(outputs)) {
      if (!isRecord(output)) continue
      const site = {section: 'Outputs', owner: id}
      const base = pathOf('Outputs', id)
      walk(output.Value, childPath(base, 'Value'), site, false, out)
      walk(output.Export, childPath(base, 'Export'), site, false, out)
      if (typeof output.Condition === 'string') {
        out.references.push({kind: 'condition', ...site, target: output.Condition, path: childPath(base, 'Condition')})
      }
    }
  }
  const conditions = template.Conditions
  if (isRecord(conditions)) {
    for (const [id, condition] of Object.entries(conditions)) {
      walk(condition, pathOf('Conditions', id), {section: 'Conditions', owner: id}, true, out)
    }
  }
  return out
}

function walkDependsOn(value: unknown, path: string, site: Site, out: CollectedReferences): void {
  if (value === undefined) return
  const targets = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (!targets) {
    out.malformed.push({path, message: 'DependsOn must name resources', expected: 'a logical id or a list of them', found: describe(value)})
    return
  }
  targets.forEach((target, index) => {
    const at = typeof value === 'string' ? path : childPath(path, index)
    if (typeof target === 'string') out.references.push({kind: 'dependsOn', ...site, target, path: at})
    else out.malformed.push({path: at, message: 'DependsOn must name resources', expected: 'a logical id', found: describe(target)})
  })
}

/** inCondition: inside the Conditions section or a condition function, where {"Condition": "X"} names a condition. */
function walk(value: unknown, path: string, site: Site, inCondition: boolean, out: CollectedReferences): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, childPath(path, index), site, inCondition, out)
    return
  }
  if (!isRecord(value)) return
  const keys = Object.keys(value)
  const only = keys.length === 1 ? keys[0] : undefined
  if (only !== undefined) {
    const argument = value[only]
    const at = childPath(path, only)
    if (only === 'Condition' && inCondition && typeof argument === 'string') {
      out.references.push({kind: 'condition', ...site, target: argument, path: at})
      return
    }
    const handled = intrinsic(only, argument, at, site, inCondition, out)
    if (handled) return
  }
  for (const key of keys) walk(value[key], childPath(path, key), site, inCondition, out)
}

/** Returns true when `name` is a function this collector understands (and it has walked its argument). */
function intrinsic(name: string, argument: unknown, path: string, site: Site, inCondition: boolean, out: CollectedReferences): boolean {
  if (name === 'Ref') ref(argument, path, site, out)
  else if (name === 'Fn::GetAtt') getAtt(argument, path, site, out)
  else if (name === 'Fn::Sub') sub(argument, path, site, inCondition, out)
  else if (name === 'Fn::If') fnIf(argument, path, site, inCondition, out)
  else if (name === 'Fn::FindInMap') findInMap(argument, path, site, inCondition, out)
  else if (name === 'Fn::And' || name === 'Fn::Or' || name === 'Fn::Not') walk(argument, path, site, true, out)
  else return false
  return true
}

function ref(argument: unknown, path: string, site: Site, out: CollectedReferences): void {
  if (typeof argument === 'string') out.references.push({kind: 'ref', ...site, target: argument, path})
  else out.malformed.push({path, message: 'Ref takes a logical id', expected: 'a string', found: describe(argument)})
}

function getAtt(argument: unknown, path: string, site: Site, out: CollectedReferences): void {
  const parts = splitGetAtt(argument)
  if (!parts) {
    out.malformed.push({
      path,
      message: 'Fn::GetAtt takes ["Resource", "Attribute"] or "Resource.Attribute"',
      expected: '["Resource", "Attribute"]',
      found: describe(argument),
    })
    return
  }
  const computed = Array.isArray(argument) && parts.attribute === undefined
  out.references.push({
    kind: 'getatt',
    ...site,
    target: parts.resource,
    ...(parts.attribute === undefined ? {} : {attribute: parts.attribute}),
    ...(computed ? {computedAttribute: true} : {}),
    path,
  })
  // A computed attribute name (["R", {"Ref": "P"}]) may itself refer to things.
  if (computed) walk((argument as unknown[])[1], childPath(path, 1), site, false, out)
}

function sub(argument: unknown, path: string, site: Site, inCondition: boolean, out: CollectedReferences): void {
  let text: unknown = argument
  let locals: Record<string, unknown> = {}
  if (Array.isArray(argument)) {
    text = argument[0]
    const vars = argument[1]
    if (argument.length !== 2 || !isRecord(vars)) {
      out.malformed.push({
        path,
        message: 'Fn::Sub takes a string or [string, {variables}]',
        expected: '[string, object]',
        found: describe(argument),
      })
      return
    }
    locals = vars
    walk(vars, childPath(path, 1), site, inCondition, out)
  }
  if (typeof text !== 'string') {
    out.malformed.push({path, message: 'Fn::Sub takes a string or [string, {variables}]', expected: 'a string', found: describe(text)})
    return
  }
  for (const name of subVariables(text)) {
    if (Object.hasOwn(locals, name)) continue
    const dot = name.indexOf('.')
    if (dot < 0) out.references.push({kind: 'sub', ...site, target: name, path})
    else out.references.push({kind: 'sub', ...site, target: name.slice(0, dot), attribute: name.slice(dot + 1), path})
  }
}

function findInMap(argument: unknown, path: string, site: Site, inCondition: boolean, out: CollectedReferences): void {
  if (!Array.isArray(argument) || argument.length < 3 || typeof argument[0] !== 'string') {
    out.malformed.push({
      path,
      message: 'Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]',
      expected: '[string, key, key]',
      found: describe(argument),
    })
    walk(argument, path, site, inCondition, out)
    return
  }
  const keys = argument.slice(1, 3)
  const literal = keys.every((key) => typeof key === 'string')
  out.references.push({kind: 'mapping', ...site, target: argument[0], ...(literal ? {keys: keys as string[]} : {}), path})
  for (const [index, key] of argument.entries()) if (index > 0) walk(key, childPath(path, index), site, inCondition, out)
}

function fnIf(argument: unknown, path: string, site: Site, inCondition: boolean, out: CollectedReferences): void {
  if (!Array.isArray(argument) || argument.length !== 3 || typeof argument[0] !== 'string') {
    out.malformed.push({
      path,
      message: 'Fn::If takes [condition, valueIfTrue, valueIfFalse]',
      expected: '[string, value, value]',
      found: describe(argument),
    })
    walk(argument, path, site, inCondition, out)
    return
  }
  out.references.push({kind: 'condition', ...site, target: argument[0], path: childPath(path, 0)})
  walk(argument[1], childPath(path, 1), site, inCondition, out)
  walk(argument[2], childPath(path, 2), site, inCondition, out)
}

export function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
