// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
import test from 'ava'
import {lintTemplate} from '../../src/template/lint/index.js'
import {type Json, nestedPair} from './lint-fixtures.js'

const FILE = 'compiled_template.json'
const NESTED = 'compiled_nested/Identity1.json'

test('a parent and a matching nested template give zero diagnostics', async (t) => {
  const {main, nested} = nestedPair()
  t.deepEqual(await lintTemplate(main, {file: FILE, nested}), [])
})

test('an unknown parameter and a missing parameter without default are refused', async (t) => {
  const {main, nested} = nestedPair()
  const parameters: Json = main.Resources.Identity1.Properties.Parameters
  parameters.GroupNam = parameters.GroupName
  delete parameters.GroupName
  const diagnostics = await lintTemplate(main, {file: FILE, nested})
  t.deepEqual(
    diagnostics.map((d) => [d.file, d.rule, d.path]),
    [
      [FILE, 'nested-parameter-unknown', '$.Resources.Identity1.Properties.Parameters.GroupNam'],
      [FILE, 'nested-parameter-missing', '$.Resources.Identity1.Properties.Parameters'],
    ],
  )
  t.is(diagnostics[0]?.suggestion, 'GroupName')
  t.is(diagnostics[1]?.expected, 'GroupName')
})

test('a GetAtt of an output the nested template lacks is refused', async (t) => {
  const {main, nested} = nestedPair()
  main.Outputs.SecretArn.Value = {'Fn::GetAtt': ['Identity1', 'Outputs.SecretArm']}
  const diagnostics = await lintTemplate(main, {file: FILE, nested})
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.suggestion]),
    [['nested-output-unknown', '$.Outputs.SecretArn.Value["Fn::GetAtt"]', 'Outputs.SecretArn']],
  )
})

test('the nested template is linted too, its diagnostics carrying its own file', async (t) => {
  const {main, nested} = nestedPair()
  nested[NESTED].Resources.Secret.Properties.Description = {'Fn::Sub': '${GroupNme}'}
  nested[NESTED].Resources.Secret.Properties.Nmae = 'x'
  const diagnostics = await lintTemplate(main, {file: FILE, nested})
  t.deepEqual(
    diagnostics.map((d) => [d.file, d.rule, d.path]),
    [
      [NESTED, 'sub-dangling', '$.Resources.Secret.Properties.Description["Fn::Sub"]'],
      [NESTED, 'unknown-property', '$.Resources.Secret.Properties.Nmae'],
    ],
  )
})

test('a relative TemplateURL with no supplied template is an error; none supplied at all is a warning', async (t) => {
  const {main} = nestedPair()
  const missing = await lintTemplate(main, {file: FILE, nested: {'compiled_nested/Identity2.json': {}}})
  t.like(missing[0], {rule: 'nested-template-missing', path: '$.Resources.Identity1.Properties.TemplateURL', severity: 'error'})
  const unchecked = await lintTemplate(main, {file: FILE})
  t.deepEqual(
    unchecked.map((d) => [d.severity, d.rule]),
    [['warning', 'nested-template-unchecked']],
  )
})

test('an https TemplateURL is not looked up', async (t) => {
  const {main} = nestedPair()
  main.Resources.Identity1.Properties.TemplateURL = 'https://bucket.s3.amazonaws.com/identity.json'
  t.deepEqual(await lintTemplate(main, {file: FILE}), [])
})
