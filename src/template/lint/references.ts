/** Every Ref, Fn::GetAtt, Fn::Sub variable, DependsOn and Condition names something that exists; no cycles. */
import type {Findings} from './diagnostics.js'
import {didYouMean, withSuggestion} from './diagnostics.js'
import type {CollectedReferences, ReferenceKind, TemplateReference} from './intrinsics.js'
import {isRecord, pathOf} from './json-path.js'

export const PSEUDO_PARAMETERS = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]

/** The attribute names a resource type has: a list, 'any' (custom resources), or undefined when the type is unknown. */
export type AttributesOf = (resourceType: string) => readonly string[] | 'any' | undefined

export function isCustomResourceType(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource'
}

export const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack'

export function resourceTypes(template: Record<string, unknown>): Map<string, string> {
  const types = new Map<string, string>()
  const resources = isRecord(template.Resources) ? template.Resources : {}
  for (const [id, resource] of Object.entries(resources)) {
    types.set(id, isRecord(resource) && typeof resource.Type === 'string' ? resource.Type : '')
  }
  return types
}

export function checkReferences(
  template: Record<string, unknown>,
  collected: CollectedReferences,
  findings: Findings,
  attributesOf: AttributesOf | undefined,
): void {
  for (const bad of collected.malformed) findings.error({rule: 'intrinsic-shape', ...bad})
  const types = resourceTypes(template)
  const parameters = new Set(Object.keys(isRecord(template.Parameters) ? template.Parameters : {}))
  const conditions = new Set(Object.keys(isRecord(template.Conditions) ? template.Conditions : {}))
  const mappings = isRecord(template.Mappings) ? template.Mappings : {}
  const refable = [...parameters, ...types.keys(), ...PSEUDO_PARAMETERS]
  for (const reference of collected.references) {
    switch (reference.kind) {
      case 'condition':
        if (!conditions.has(reference.target)) dangling(reference, 'condition-dangling', 'condition', conditions, findings)
        break
      case 'dependsOn':
        if (reference.target === reference.owner) {
          findings.error({path: reference.path, rule: 'cycle', message: `${reference.owner} depends on itself`, found: reference.target})
        } else if (!types.has(reference.target)) dangling(reference, 'depends-on-dangling', 'resource', types.keys(), findings)
        break
      case 'ref':
      case 'sub':
        if (reference.attribute !== undefined) checkGetAtt(reference, types, parameters, attributesOf, findings)
        else if (!refable.includes(reference.target)) {
          dangling(reference, reference.kind === 'ref' ? 'ref-dangling' : 'sub-dangling', 'parameter or resource', refable, findings)
        } else if (reference.section === 'Conditions' && types.has(reference.target)) {
          findings.error({
            path: reference.path,
            rule: 'ref-in-conditions',
            message: `Conditions can refer to parameters only, not to resource ${reference.target}`,
            found: reference.target,
          })
        }
        break
      case 'getatt':
        checkGetAtt(reference, types, parameters, attributesOf, findings)
        break
      case 'mapping':
        checkMapping(reference, mappings, findings)
        break
    }
  }
}

function dangling(reference: TemplateReference, rule: string, what: string, candidates: Iterable<string>, findings: Findings): void {
  const hint = didYouMean(reference.target, candidates)
  const how = {
    ref: 'Ref',
    sub: 'Fn::Sub variable',
    getatt: 'Fn::GetAtt',
    dependsOn: 'DependsOn',
    condition: 'Condition',
    mapping: 'Fn::FindInMap',
  }[reference.kind]
  findings.error({
    path: reference.path,
    rule,
    ...withSuggestion(`${how} names ${reference.target}, which is no ${what} of this template`, hint),
    expected: `an existing ${what}`,
    found: reference.target,
  })
}

function checkMapping(reference: TemplateReference, mappings: Record<string, unknown>, findings: Findings): void {
  const mapping = mappings[reference.target]
  if (!Object.hasOwn(mappings, reference.target)) {
    dangling(reference, 'mapping-dangling', 'mapping', Object.keys(mappings), findings)
    return
  }
  const [top, second] = reference.keys ?? []
  if (top === undefined || second === undefined || !isRecord(mapping)) return
  const level = mapping[top]
  const missing = !isRecord(level) ? top : Object.hasOwn(level, second) ? undefined : second
  if (missing === undefined) return
  const candidates = missing === top ? Object.keys(mapping) : Object.keys(level as Record<string, unknown>)
  const hint = didYouMean(missing, candidates)
  findings.error({
    path: reference.path,
    rule: 'mapping-dangling',
    ...withSuggestion(`Mapping ${reference.target} has no key ${missing}`, hint),
    found: missing,
  })
}

function checkGetAtt(
  reference: TemplateReference,
  types: Map<string, string>,
  parameters: Set<string>,
  attributesOf: AttributesOf | undefined,
  findings: Findings,
): void {
  const rule = reference.kind === 'sub' ? 'sub-dangling' : 'getatt-dangling'
  const type = types.get(reference.target)
  if (type === undefined) {
    if (parameters.has(reference.target)) {
      findings.error({
        path: reference.path,
        rule,
        message: `${reference.target} is a parameter; Fn::GetAtt needs a resource`,
        expected: 'a resource',
        found: reference.target,
      })
    } else dangling(reference, rule, 'resource', types.keys(), findings)
    return
  }
  const attribute = reference.attribute
  if (reference.computedAttribute) return
  if (attribute === undefined) {
    findings.error({
      path: reference.path,
      rule: 'getatt-attribute',
      message: `Fn::GetAtt on ${reference.target} names no attribute`,
      expected: 'Resource.Attribute',
      found: reference.target,
    })
    return
  }
  if (type === '' || isCustomResourceType(type)) return
  // Outputs.X of a nested stack is checked against the nested template (nested.ts).
  if (type === NESTED_STACK_TYPE && attribute.startsWith('Outputs.')) return
  const known = attributesOf?.(type)
  if (known === undefined || known === 'any' || known.includes(attribute)) return
  const hint = didYouMean(attribute, known)
  const list = known.length === 0 ? 'none' : known.join(', ')
  findings.error({
    path: reference.path,
    rule: 'getatt-attribute',
    ...withSuggestion(`${type} has no attribute ${attribute} (resource ${reference.target})`, hint),
    expected: `one of: ${list}`,
    found: attribute,
  })
}

const DEPENDENCY_KINDS = new Set<ReferenceKind>(['ref', 'getatt', 'sub', 'dependsOn'])

/** Resource-to-resource edges through Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
export function resourceEdges(collected: CollectedReferences, types: Map<string, string>): TemplateReference[] {
  return collected.references.filter(
    (reference) => reference.section === 'Resources' && DEPENDENCY_KINDS.has(reference.kind) && types.has(reference.target),
  )
}

/** One error per strongly connected group of resources, with one concrete cycle path. */
export function checkCycles(template: Record<string, unknown>, collected: CollectedReferences, findings: Findings): void {
  const types = resourceTypes(template)
  const successors = new Map<string, Map<string, TemplateReference>>()
  for (const id of types.keys()) successors.set(id, new Map())
  for (const edge of resourceEdges(collected, types)) {
    if (edge.owner === edge.target) continue // a self-DependsOn is reported by checkReferences
    const next = successors.get(edge.owner)
    if (next && !next.has(edge.target)) next.set(edge.target, edge)
  }
  for (const component of stronglyConnected(successors)) {
    if (component.length < 2) continue
    const members = new Set(component)
    const start = [...component].sort()[0]!
    const cycle = shortestCycle(start, members, successors)
    const first = successors.get(start)?.get(cycle[1] ?? '')
    findings.error({
      path: first?.path ?? pathOf('Resources', start),
      rule: 'cycle',
      message: `Circular dependency: ${cycle.join(' -> ')}`,
      found: cycle.join(' -> '),
    })
  }
}

function shortestCycle(start: string, members: Set<string>, successors: Map<string, Map<string, TemplateReference>>): string[] {
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const next of [...(successors.get(node)?.keys() ?? [])].sort()) {
      if (!members.has(next)) continue
      if (next === start) {
        const path = [node]
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!)
        return [...path, start]
      }
      if (previous.has(next)) continue
      previous.set(next, node)
      queue.push(next)
    }
  }
  return [start, start]
}

/** Tarjan's algorithm, iterative so that deep chains do not overflow the stack. */
function stronglyConnected(successors: Map<string, Map<string, unknown>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let counter = 0
  for (const root of [...successors.keys()].sort()) {
    if (index.has(root)) continue
    const work: {node: string; next: string[]}[] = []
    const enter = (node: string) => {
      index.set(node, counter)
      low.set(node, counter)
      counter++
      stack.push(node)
      onStack.add(node)
      work.push({node, next: [...(successors.get(node)?.keys() ?? [])].sort()})
    }
    enter(root)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const next = frame.next.shift()
      if (next !== undefined) {
        if (!index.has(next)) enter(next)
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = []
        let member: string
        do {
          member = stack.pop()!
          onStack.delete(member)
          component.push(member)
        } while (member !== frame.node)
        components.push(component)
      }
    }
  }
  return components
}
