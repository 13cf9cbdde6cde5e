/** CloudFormation's template quotas (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). */
import type {Findings} from './diagnostics.js'
import {isRecord, pathOf} from './json-path.js'

export const TEMPLATE_QUOTAS = {
  resources: 500,
  outputs: 200,
  parameters: 200,
  mappings: 200,
  logicalIdLength: 255,
  /** A template body uploaded to S3 (how ncap deploys). */
  bodyBytes: 1_000_000,
  /** A template body passed inline to CreateStack. */
  inlineBodyBytes: 51_200,
} as const

const COUNTED = [
  ['Resources', 'resources'],
  ['Outputs', 'outputs'],
  ['Parameters', 'parameters'],
  ['Mappings', 'mappings'],
] as const

/** The body's size as ncap writes it (2-space JSON and a newline, like the compiler's serializer). */
export function templateBodyBytes(template: unknown): number {
  return Buffer.byteLength(`${JSON.stringify(template, null, 2)}\n`)
}

export function checkQuotas(template: Record<string, unknown>, findings: Findings): void {
  for (const [section, quota] of COUNTED) {
    const entries = template[section]
    if (!isRecord(entries)) continue
    const limit = TEMPLATE_QUOTAS[quota]
    const count = Object.keys(entries).length
    if (count > limit) {
      findings.error({
        path: pathOf(section),
        rule: `quota-${quota}`,
        message: `${count} ${quota}; CloudFormation allows at most ${limit} per template`,
        expected: `<= ${limit}`,
        found: String(count),
      })
    }
    for (const id of Object.keys(entries)) {
      if (id.length <= TEMPLATE_QUOTAS.logicalIdLength) continue
      findings.error({
        path: pathOf(section, id),
        rule: 'quota-logical-id-length',
        message: `Name is ${id.length} characters long; CloudFormation allows ${TEMPLATE_QUOTAS.logicalIdLength}`,
        expected: `<= ${TEMPLATE_QUOTAS.logicalIdLength} characters`,
        found: `${id.slice(0, 40)}...`,
      })
    }
  }
  const bytes = templateBodyBytes(template)
  if (bytes > TEMPLATE_QUOTAS.bodyBytes) {
    findings.error({
      path: '$',
      rule: 'quota-template-size',
      message: `Template body is ${bytes} bytes; CloudFormation allows ${TEMPLATE_QUOTAS.bodyBytes} for a template in S3`,
      expected: `<= ${TEMPLATE_QUOTAS.bodyBytes} bytes`,
      found: `${bytes} bytes`,
    })
  } else if (bytes > TEMPLATE_QUOTAS.inlineBodyBytes) {
    findings.warning({
      path: '$',
      rule: 'quota-template-size-inline',
      message: `Template body is ${bytes} bytes: too big to pass inline (${TEMPLATE_QUOTAS.inlineBodyBytes}); it must be deployed from S3`,
      expected: `<= ${TEMPLATE_QUOTAS.inlineBodyBytes} bytes inline`,
      found: `${bytes} bytes`,
    })
  }
}
