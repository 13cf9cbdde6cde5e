/**
 * The offline list of supported types (what `ncap validate --target local`
 * checks) agrees with the engine's providers, and covers every type ncap's
 * compiler emits for the seed, the every-feature and the 2,000-user pipelines.
 */
import test from 'ava'
import {providerFor} from '../../../src/emulator/services/cloudformation/providers/index.js'
import {
  isSupportedResourceType,
  SUPPORTED_RESOURCE_TYPES,
  unsupportedTypeMessage,
} from '../../../src/emulator/services/cloudformation/supported.js'
import {compilePipeline} from '../../../src/template/index.js'
import {validateProject} from '../../../src/template/validate-project.js'
import {everyFeaturePipeline, largePipeline, seedPipeline} from '../../template/pipelines.js'

test('every supported type has a provider, and custom types are supported', (t) => {
  for (const type of SUPPORTED_RESOURCE_TYPES) t.truthy(providerFor(type), type)
  t.true(isSupportedResourceType('Custom::BucketFolders'))
  t.false(isSupportedResourceType('AWS::SQS::Queue'))
  t.is(unsupportedTypeMessage('AWS::SQS::Queue'), 'Resource type AWS::SQS::Queue is not supported by the ncap emulator')
})

test('every type the compiler emits is supported by the emulator', (t) => {
  for (const pipeline of [seedPipeline(), everyFeaturePipeline(), largePipeline(2000, 200)]) {
    const compiled = compilePipeline(pipeline)
    for (const template of [compiled.main, ...Object.values(compiled.nested)]) {
      for (const [id, resource] of Object.entries(template.Resources))
        t.true(isSupportedResourceType(resource.Type), `${pipeline.name} ${id}: ${resource.Type}`)
    }
  }
})

test('ncap validate --target local passes the seed config', async (t) => {
  const report = await validateProject(new URL('../../fixtures/seed', import.meta.url).pathname, {cfnLint: false, target: 'local'})
  t.is(report.exitCode, 0)
  t.false(report.errors.some((d) => d.rule === 'emulator-resource-type'))
})
