import test from 'ava'
import {compilePipeline, QUOTAS, quotaUse, type Resource, serializeTemplate} from '../../src/template/index.js'
import {cfnLint, unexpected, writeToTemp} from './cfn-lint.js'
import {largePipeline} from './pipelines.js'

/** A resource's properties, {} when it has none. */
const props = (resource: Resource): Record<string, unknown> => resource.Properties ?? {}

const large = compilePipeline(largePipeline(2000, 200))

test('2,000 users in 200 groups: identity split into nested stacks, every template within the quotas', (t) => {
  const files = Object.keys(large.nested)
  t.true(files.length > 1)
  for (const [name, template] of [['compiled_template.json', large.main] as const, ...Object.entries(large.nested)]) {
    const use = quotaUse(template)
    t.true(use.resources <= QUOTAS.resources, `${name}: ${use.resources} resources`)
    t.true(use.outputs <= QUOTAS.outputs, `${name}: ${use.outputs} outputs`)
    t.true(use.parameters <= QUOTAS.parameters, `${name}: ${use.parameters} parameters`)
    t.true(use.bodyBytes <= QUOTAS.bodyBytes, `${name}: ${use.bodyBytes} bytes`)
  }
  // Every user and group is somewhere, once.
  const all = Object.values(large.nested).flatMap((n) => Object.values(n.Resources))
  t.is(all.filter((r) => r.Type === 'AWS::IAM::User').length, 2000)
  t.is(all.filter((r) => r.Type === 'AWS::IAM::Group').length, 200)
  t.is(all.filter((r) => r.Type === 'AWS::IAM::AccessKey').length, 2000)
  // The main stack points at each nested file, and users' secrets are collected in nested outputs.
  const stacks = Object.entries(large.main.Resources).filter(([, r]) => r.Type === 'AWS::CloudFormation::Stack')
  t.deepEqual(
    stacks.map(([, r]) => r.Properties?.TemplateURL),
    files,
  )
  const secretOutputs = Object.values(large.nested).flatMap((n) => Object.keys(n.Outputs ?? {}))
  t.is(secretOutputs.length, 4000)
  t.false(Object.keys(large.main.Outputs ?? {}).some((k) => k.startsWith('User')))
  t.true(large.notes.some((n) => n.includes(`${files.length} nested stacks`)))
})

test('nested stacks of users depend on the stacks that hold their groups, never the reverse', (t) => {
  const stacks = Object.entries(large.main.Resources).filter(([, r]) => r.Type === 'AWS::CloudFormation::Stack')
  for (const [id, stack] of stacks) {
    const n = Number(id.replace('Identity', ''))
    for (const dep of stack.DependsOn ?? []) t.true(Number(dep.replace('Identity', '')) < n, `${id} depends on ${dep}`)
    const template = large.nested[String(stack.Properties?.TemplateURL)]!
    // A user whose group is elsewhere names it by its physical name; one beside it by Ref.
    for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::User')) {
      for (const group of props(resource).Groups as unknown[]) {
        if (typeof group === 'string') {
          t.true((stack.DependsOn ?? []).length > 0)
          t.regex(group, /^large-pipeline-group\d+$/)
        } else t.truthy(template.Resources[(group as {Ref: string}).Ref])
      }
    }
  }
})

test('no split for small configs', (t) => {
  const small = compilePipeline(largePipeline(60, 6))
  t.deepEqual(small.nested, {})
  t.deepEqual(small.notes, [])
  t.is(Object.values(small.main.Resources).filter((r) => r.Type === 'AWS::IAM::User').length, 60)
})

test('splitting is deterministic', (t) => {
  const again = compilePipeline(largePipeline(2000, 200))
  t.is(serializeTemplate(again.main), serializeTemplate(large.main))
  t.deepEqual(Object.keys(again.nested), Object.keys(large.nested))
  for (const [file, template] of Object.entries(again.nested))
    t.is(serializeTemplate(template), serializeTemplate(large.nested[file]!), file)
})

test('2,000 users in 200 groups: every template passes cfn-lint with no errors', async (t) => {
  t.timeout(240_000)
  const files = await writeToTemp(large, 'ncap-large-')
  t.is(files.length, Object.keys(large.nested).length + 1)
  t.deepEqual(unexpected(await cfnLint(files, 2)), [])
})
