/** Nested stacks: a relative TemplateURL names a template the caller supplies; the parameters and outputs used must match it. */
import type {Findings} from './diagnostics.js'
import {didYouMean, withSuggestion} from './diagnostics.js'
import type {CollectedReferences} from './intrinsics.js'
import {describe} from './intrinsics.js'
import {isRecord, pathOf} from './json-path.js'
import {NESTED_STACK_TYPE, resourceTypes} from './references.js'

export interface NestedStack {
  id: string
  /** The key of `nested` it was found under. */
  file: string
  template: unknown
}

export function isRelativeTemplateUrl(url: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('/')
}

function lookUp(url: string, nested: Record<string, unknown>): {file: string; template: unknown} | undefined {
  const normalized = url.replace(/^(\.\/)+/, '')
  for (const key of [url, normalized, `./${normalized}`]) {
    if (Object.hasOwn(nested, key)) return {file: key, template: nested[key]}
  }
  return undefined
}

/** Checks each nested stack resource against its template; returns the templates found, to be linted too. */
export function checkNestedStacks(
  template: Record<string, unknown>,
  collected: CollectedReferences,
  nested: Record<string, unknown> | undefined,
  findings: Findings,
): NestedStack[] {
  const found: NestedStack[] = []
  const resources = isRecord(template.Resources) ? template.Resources : {}
  const byId = new Map<string, Record<string, unknown>>()
  for (const [id, resource] of Object.entries(resources)) {
    if (!isRecord(resource) || resource.Type !== NESTED_STACK_TYPE) continue
    const properties = isRecord(resource.Properties) ? resource.Properties : {}
    const url = properties.TemplateURL
    if (typeof url !== 'string' || !isRelativeTemplateUrl(url)) continue
    const urlPath = pathOf('Resources', id, 'Properties', 'TemplateURL')
    if (!nested) {
      findings.warning({
        path: urlPath,
        rule: 'nested-template-unchecked',
        message: `Nested template ${url} was not supplied, so stack ${id} was not checked against it`,
        found: url,
      })
      continue
    }
    const entry = lookUp(url, nested)
    if (!entry) {
      const hint = didYouMean(url, Object.keys(nested))
      findings.error({
        path: urlPath,
        rule: 'nested-template-missing',
        ...withSuggestion(`Nested template ${url} of stack ${id} does not exist`, hint),
        found: url,
      })
      continue
    }
    found.push({id, ...entry})
    if (isRecord(entry.template)) {
      byId.set(id, entry.template)
      checkParameters(id, properties.Parameters, entry, findings)
    }
  }
  checkOutputsUsed(template, collected, byId, findings)
  return found
}

function checkParameters(id: string, passed: unknown, entry: {file: string; template: unknown}, findings: Findings): void {
  const nestedTemplate = entry.template as Record<string, unknown>
  const declared = isRecord(nestedTemplate.Parameters) ? nestedTemplate.Parameters : {}
  const path = pathOf('Resources', id, 'Properties', 'Parameters')
  if (passed !== undefined && !isRecord(passed)) {
    findings.error({
      path,
      rule: 'nested-parameters',
      message: `Parameters of stack ${id} must be an object`,
      expected: 'an object',
      found: describe(passed),
    })
    return
  }
  const given = passed ?? {}
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(declared, name)) continue
    const hint = didYouMean(name, Object.keys(declared))
    findings.error({
      path: pathOf('Resources', id, 'Properties', 'Parameters', name),
      rule: 'nested-parameter-unknown',
      ...withSuggestion(`Stack ${id} passes parameter ${name}, which ${entry.file} does not declare`, hint),
      found: name,
    })
  }
  for (const [name, parameter] of Object.entries(declared)) {
    if (Object.hasOwn(given, name) || (isRecord(parameter) && parameter.Default !== undefined)) continue
    findings.error({
      path,
      rule: 'nested-parameter-missing',
      message: `Stack ${id} does not pass parameter ${name}, which ${entry.file} requires (it has no Default)`,
      expected: name,
    })
  }
}

function checkOutputsUsed(
  template: Record<string, unknown>,
  collected: CollectedReferences,
  byId: Map<string, Record<string, unknown>>,
  findings: Findings,
): void {
  const types = resourceTypes(template)
  for (const reference of collected.references) {
    // Other attributes (StackId, ...) are the spec's to check.
    if (!reference.attribute?.startsWith('Outputs.') || types.get(reference.target) !== NESTED_STACK_TYPE) continue
    const nestedTemplate = byId.get(reference.target)
    if (!nestedTemplate) continue
    const outputs = Object.keys(isRecord(nestedTemplate.Outputs) ? nestedTemplate.Outputs : {})
    const name = reference.attribute.slice('Outputs.'.length)
    if (outputs.includes(name)) continue
    const hint = didYouMean(name, outputs)
    findings.error({
      path: reference.path,
      rule: 'nested-output-unknown',
      ...withSuggestion(`Stack ${reference.target} has no output ${name}`, hint === undefined ? undefined : `Outputs.${hint}`),
      expected: outputs.length
        ? `one of: ${outputs.map((output) => `Outputs.${output}`).join(', ')}`
        : 'the nested template declares no outputs',
      found: reference.attribute,
    })
  }
}
