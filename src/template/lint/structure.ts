/** The template's shape: sections, resource entries, logical ids. */
import type {Findings} from './diagnostics.js'
import {didYouMean, withSuggestion} from './diagnostics.js'
import {describe} from './intrinsics.js'
import {isRecord, pathOf} from './json-path.js'

const SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Hooks',
]
const RESOURCE_KEYS = [
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
]
const OUTPUT_KEYS = ['Value', 'Description', 'Export', 'Condition']
const NAMED_SECTIONS = ['Parameters', 'Mappings', 'Conditions', 'Resources', 'Outputs']
const ALPHANUMERIC = /^[A-Za-z0-9]+$/

/** Returns false when the template is too broken to check further. */
export function checkStructure(template: unknown, findings: Findings): template is Record<string, unknown> {
  if (!isRecord(template)) {
    findings.error({
      path: '$',
      rule: 'template-structure',
      message: 'A template is a JSON object',
      expected: 'an object',
      found: describe(template),
    })
    return false
  }
  for (const section of Object.keys(template)) {
    if (SECTIONS.includes(section)) continue
    const hint = didYouMean(section, SECTIONS)
    findings.error({
      path: pathOf(section),
      rule: 'template-section',
      ...withSuggestion(`Unknown template section ${section}`, hint),
      found: section,
    })
  }
  const version = template.AWSTemplateFormatVersion
  if (version !== undefined && version !== '2010-09-09') {
    findings.error({
      path: pathOf('AWSTemplateFormatVersion'),
      rule: 'template-structure',
      message: 'The only template format version is 2010-09-09',
      expected: '2010-09-09',
      found: describe(version),
    })
  }
  for (const section of NAMED_SECTIONS) {
    const value = template[section]
    if (value !== undefined && !isRecord(value)) {
      findings.error({
        path: pathOf(section),
        rule: 'template-structure',
        message: `${section} must be an object of named entries`,
        expected: 'an object',
        found: describe(value),
      })
    }
  }
  const resources = template.Resources
  if (!isRecord(resources) || Object.keys(resources).length === 0) {
    findings.error({
      path: pathOf('Resources'),
      rule: 'template-structure',
      message: 'A template needs at least one resource',
      expected: 'Resources with one or more entries',
      found: describe(resources),
    })
    return false
  }
  checkResourceEntries(resources, findings)
  checkOutputEntries(template.Outputs, findings)
  checkLogicalIds(template, findings)
  return true
}

function checkResourceEntries(resources: Record<string, unknown>, findings: Findings): void {
  for (const [id, resource] of Object.entries(resources)) {
    const path = pathOf('Resources', id)
    if (!isRecord(resource)) {
      findings.error({
        path,
        rule: 'template-structure',
        message: `Resource ${id} must be an object with a Type`,
        expected: 'an object',
        found: describe(resource),
      })
      continue
    }
    if (typeof resource.Type !== 'string' || resource.Type === '') {
      findings.error({
        path: pathOf('Resources', id, 'Type'),
        rule: 'resource-type',
        message: `Resource ${id} has no Type`,
        expected: 'a resource type such as AWS::S3::Bucket',
        found: describe(resource.Type),
      })
    }
    if (resource.Properties !== undefined && !isRecord(resource.Properties)) {
      findings.error({
        path: pathOf('Resources', id, 'Properties'),
        rule: 'template-structure',
        message: `Properties of ${id} must be an object`,
        expected: 'an object',
        found: describe(resource.Properties),
      })
    }
    for (const key of Object.keys(resource)) {
      if (RESOURCE_KEYS.includes(key)) continue
      const hint = didYouMean(key, RESOURCE_KEYS)
      findings.error({
        path: pathOf('Resources', id, key),
        rule: 'resource-attribute',
        ...withSuggestion(`Unknown resource attribute ${key} on ${id}`, hint),
        found: key,
      })
    }
  }
}

function checkOutputEntries(outputs: unknown, findings: Findings): void {
  if (!isRecord(outputs)) return
  for (const [name, output] of Object.entries(outputs)) {
    const path = pathOf('Outputs', name)
    if (!isRecord(output) || output.Value === undefined) {
      findings.error({
        path,
        rule: 'template-structure',
        message: `Output ${name} needs a Value`,
        expected: '{"Value": ...}',
        found: describe(output),
      })
      continue
    }
    for (const key of Object.keys(output)) {
      if (OUTPUT_KEYS.includes(key)) continue
      const hint = didYouMean(key, OUTPUT_KEYS)
      findings.error({
        path: pathOf('Outputs', name, key),
        rule: 'template-structure',
        ...withSuggestion(`Unknown output key ${key}`, hint),
        found: key,
      })
    }
  }
}

/** Logical ids (and output names) are alphanumeric; parameters and resources share one namespace. */
function checkLogicalIds(template: Record<string, unknown>, findings: Findings): void {
  for (const section of NAMED_SECTIONS) {
    const entries = template[section]
    if (!isRecord(entries)) continue
    for (const id of Object.keys(entries)) {
      if (ALPHANUMERIC.test(id)) continue
      findings.error({
        path: pathOf(section, id),
        rule: 'logical-id',
        message: `${section} name ${JSON.stringify(id)} is not alphanumeric`,
        expected: 'letters and digits only (A-Za-z0-9)',
        found: id,
      })
    }
  }
  const resources = isRecord(template.Resources) ? template.Resources : {}
  const parameters = isRecord(template.Parameters) ? template.Parameters : {}
  for (const id of Object.keys(parameters)) {
    if (!Object.hasOwn(resources, id)) continue
    findings.error({
      path: pathOf('Resources', id),
      rule: 'logical-id-unique',
      message: `${id} is both a parameter and a resource; logical ids must be unique`,
      expected: 'a logical id not used by a parameter',
      found: id,
    })
  }
}
