/**
 * The template linter: structure and logical ids, references and cycles, the CloudFormation
 * resource specification (offline), quotas, and nested stacks. Works on any template JSON.
 */
import type {Diagnostic} from '../../config/model.js'
import {Findings} from './diagnostics.js'
import {collectReferences} from './intrinsics.js'
import {checkNestedStacks, type NestedStack} from './nested.js'
import {checkQuotas} from './quotas.js'
import {type AttributesOf, checkCycles, checkReferences} from './references.js'
import {checkResourcesAgainstSpec, loadResourceSpecification} from './spec.js'
import {checkStructure} from './structure.js'

export {runCfnLint} from './cfn-lint.js'
export {TEMPLATE_QUOTAS, templateBodyBytes} from './quotas.js'

export interface LintOptions {
  /** For Diagnostic.file. */
  file: string
  /** Nested templates by TemplateURL, linted too. */
  nested?: Record<string, unknown>
  /** Check against the CloudFormation resource specification (default true; loads it on first use). */
  spec?: boolean
}

export async function lintTemplate(template: unknown, options: LintOptions): Promise<Diagnostic[]> {
  const spec = options.spec === false ? undefined : await loadResourceSpecification()
  const attributesOf: AttributesOf | undefined = spec ? (type) => spec.resource(type)?.attributes : undefined
  const diagnostics: Diagnostic[] = []
  const seen = new Set<string>()
  const lintOne = (body: unknown, file: string): void => {
    if (seen.has(file)) return // a nested template used by several stacks is linted once
    seen.add(file)
    const findings = new Findings(file)
    let nested: NestedStack[] = []
    if (checkStructure(body, findings)) {
      const collected = collectReferences(body)
      checkReferences(body, collected, findings, attributesOf)
      checkCycles(body, collected, findings)
      if (spec) checkResourcesAgainstSpec(body, spec, findings)
      checkQuotas(body, findings)
      nested = checkNestedStacks(body, collected, options.nested, findings)
    }
    diagnostics.push(...findings.list)
    for (const stack of nested) lintOne(stack.template, stack.file)
  }
  lintOne(template, options.file)
  return diagnostics
}
