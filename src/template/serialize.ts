/**
 * Template -> text. The sections come in CloudFormation's customary order and
 * everything inside keeps the compiler's (deterministic) insertion order, so the
 * same template always gives the same bytes.
 */
import type {Template} from './types.js'

const SECTION_ORDER = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Conditions', 'Resources', 'Outputs'] as const

export function serializeTemplate(template: Template): string {
  const ordered: Record<string, unknown> = {}
  for (const section of SECTION_ORDER) {
    if (template[section] !== undefined) ordered[section] = template[section]
  }
  for (const [key, value] of Object.entries(template)) {
    if (!(key in ordered) && value !== undefined) ordered[key] = value
  }
  return `${JSON.stringify(ordered, null, 2)}\n`
}

/** Bytes of the serialized template: what CloudFormation's body-size quota counts. */
export function templateBytes(template: Template): number {
  return Buffer.byteLength(serializeTemplate(template))
}
