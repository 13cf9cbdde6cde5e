// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
import test from 'ava'
import type {Diagnostic} from '../../src/config/model.js'
import {lintTemplate} from '../../src/template/lint/index.js'
import {cleanTemplate, type Json} from './lint-fixtures.js'

const FILE = 'compiled_template.json'

async function lint(template: unknown): Promise<Diagnostic[]> {
  return lintTemplate(template, {file: FILE})
}

function broken(change: (template: Json) => void): Json {
  const template = cleanTemplate()
  change(template)
  return template
}

function only(diagnostics: Diagnostic[], rule: string): Diagnostic[] {
  return diagnostics.filter((d) => d.rule === rule)
}

test('a clean template gives zero diagnostics', async (t) => {
  t.deepEqual(await lint(cleanTemplate()), [])
})

test('a non-alphanumeric logical id is refused with its path', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources['my-bucket'] = template.Resources.Bucket
      delete template.Resources.Bucket
      template.Resources.Function.Properties.Environment.Variables.BUCKET = {Ref: 'my-bucket'}
      template.Resources.Role.Properties.Policies[0].PolicyDocument.Statement[0].Resource = 'arn:aws:s3:::x/*'
      template.Resources.Role.Properties.Policies[0].PolicyDocument.Statement[1].Resource = 'arn:aws:s3:::x'
      template.Resources.Folders.DependsOn = ['my-bucket']
      template.Outputs.BucketName.Value = {Ref: 'my-bucket'}
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.severity, d.rule, d.path, d.file]),
    [['error', 'logical-id', '$.Resources["my-bucket"]', FILE]],
  )
})

test('a parameter and a resource may not share a logical id', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Parameters.Bucket = {Type: 'String'})))
  t.like(only(diagnostics, 'logical-id-unique')[0], {path: '$.Resources.Bucket', severity: 'error'})
})

test('a dangling Ref names its path and suggests the nearest id', async (t) => {
  const diagnostics = await lint(
    broken((template) => (template.Resources.Function.Properties.Environment.Variables.BUCKET = {Ref: 'Buckt'})),
  )
  t.is(diagnostics.length, 1)
  t.like(diagnostics[0], {
    rule: 'ref-dangling',
    path: '$.Resources.Function.Properties.Environment.Variables.BUCKET.Ref',
    found: 'Buckt',
    suggestion: 'Bucket',
  })
})

test('a dangling Fn::GetAtt in either form is refused', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Function.Properties.Role = {'Fn::GetAtt': ['Rol', 'Arn']}
      template.Outputs.FolderCount.Value = {'Fn::GetAtt': 'Nothing.Count'}
    }),
  )
  t.deepEqual(
    only(diagnostics, 'getatt-dangling').map((d) => [d.path, d.found]),
    [
      ['$.Resources.Function.Properties.Role["Fn::GetAtt"]', 'Rol'],
      ['$.Outputs.FolderCount.Value["Fn::GetAtt"]', 'Nothing'],
    ],
  )
  t.is(diagnostics.length, 2)
})

test('dangling Fn::Sub variables are refused, local variables and ${!escapes} are not', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Bucket.Properties.BucketName = {'Fn::Sub': '${Stag}-${!Literal}-${AWS::Region}'}
      template.Resources.KeySecret.Properties.SecretString['Fn::Sub'][0] = '${Key}${Ky.SecretAccessKey}${FunctionArn}'
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.found, d.suggestion]),
    [
      ['sub-dangling', '$.Resources.Bucket.Properties.BucketName["Fn::Sub"]', 'Stag', 'Stage'],
      ['sub-dangling', '$.Resources.KeySecret.Properties.SecretString["Fn::Sub"]', 'Ky', 'Key'],
    ],
  )
})

test('a dangling DependsOn target and a dangling condition are refused', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Folders.DependsOn = ['Bucket', 'Bukcet']
      template.Resources.ProdTopic.Condition = 'IsProduction'
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path]),
    [
      ['depends-on-dangling', '$.Resources.Folders.DependsOn[1]'],
      ['condition-dangling', '$.Resources.ProdTopic.Condition'],
    ],
  )
  t.is(diagnostics[0]?.suggestion, 'Bucket')
})

test('an attribute the resource type does not have is refused; AccessKey.SecretAccessKey and custom attributes pass', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Resources.Function.Properties.Role = {'Fn::GetAtt': ['Role', 'Arm']})))
  t.is(diagnostics.length, 1)
  t.like(diagnostics[0], {
    rule: 'getatt-attribute',
    path: '$.Resources.Function.Properties.Role["Fn::GetAtt"]',
    found: 'Arm',
    suggestion: 'Arn',
  })
  t.regex(diagnostics[0]?.expected ?? '', /RoleId/)
})

test('a computed GetAtt attribute is accepted and its own references are checked', async (t) => {
  const ok = await lint(broken((template) => (template.Outputs.BucketName.Value = {'Fn::GetAtt': ['Bucket', {Ref: 'Stage'}]})))
  t.deepEqual(ok, [])
  const dangling = await lint(broken((template) => (template.Outputs.BucketName.Value = {'Fn::GetAtt': ['Bucket', {Ref: 'Stag'}]})))
  t.deepEqual(
    dangling.map((d) => [d.rule, d.path]),
    [['ref-dangling', '$.Outputs.BucketName.Value["Fn::GetAtt"][1].Ref']],
  )
  const none = await lint(broken((template) => (template.Outputs.BucketName.Value = {'Fn::GetAtt': 'Bucket'})))
  t.like(none[0], {rule: 'getatt-attribute', path: '$.Outputs.BucketName.Value["Fn::GetAtt"]'})
})

test('Fn::FindInMap must name an existing mapping and, when literal, existing keys', async (t) => {
  const withMapping = (value: unknown) =>
    broken((template) => {
      template.Mappings = {Regions: {'us-east-1': {Ami: 'ami-1'}}}
      template.Outputs.BucketName.Value = value
    })
  t.deepEqual(await lint(withMapping({'Fn::FindInMap': ['Regions', {Ref: 'AWS::Region'}, 'Ami']})), [])
  const diagnostics = [
    ...(await lint(withMapping({'Fn::FindInMap': ['Region', 'us-east-1', 'Ami']}))),
    ...(await lint(withMapping({'Fn::FindInMap': ['Regions', 'us-east-1', 'Amy']}))),
  ]
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.suggestion]),
    [
      ['mapping-dangling', '$.Outputs.BucketName.Value["Fn::FindInMap"]', 'Regions'],
      ['mapping-dangling', '$.Outputs.BucketName.Value["Fn::FindInMap"]', 'Ami'],
    ],
  )
})

test('a cycle is refused with its path', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Role.DependsOn = 'KeySecret'
    }),
  )
  const cycles = only(diagnostics, 'cycle')
  t.is(cycles.length, 1)
  // KeySecret -> Function (Sub) -> Role (GetAtt) -> KeySecret (DependsOn)
  t.is(cycles[0]?.found, 'Function -> Role -> KeySecret -> Function')
  t.regex(cycles[0]?.message ?? '', /Circular dependency/)
})

test('a resource that depends on itself is a cycle', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Resources.Bucket.DependsOn = 'Bucket')))
  t.like(only(diagnostics, 'cycle')[0], {path: '$.Resources.Bucket.DependsOn'})
})

test('an unknown resource type is refused with a suggestion', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Resources.Bucket.Type = 'AWS::S3::Buckett')))
  const typeErrors = only(diagnostics, 'resource-type')
  t.is(typeErrors.length, 1)
  t.like(typeErrors[0], {path: '$.Resources.Bucket.Type', suggestion: 'AWS::S3::Bucket', severity: 'error'})
})

test('an unknown property is refused with a suggestion', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Function.Properties.Handlr = template.Resources.Function.Properties.Handler
      delete template.Resources.Function.Properties.Handler
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.suggestion]),
    [['unknown-property', '$.Resources.Function.Properties.Handlr', 'Handler']],
  )
})

test('a missing required property is refused', async (t) => {
  const diagnostics = await lint(broken((template) => delete template.Resources.Function.Properties.Code))
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.expected]),
    [['required-property', '$.Resources.Function.Properties', 'Code']],
  )
})

test('an object where the spec wants a string, and a string where it wants a list, are refused', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Resources.Function.Properties.Handler = {name: 'index.handler'}
      template.Resources.Bucket.Properties.Tags = 'pipeline=demo'
    }),
  )
  t.deepEqual(
    only(diagnostics, 'property-type')
      .map((d) => d.path)
      .sort(),
    ['$.Resources.Bucket.Properties.Tags', '$.Resources.Function.Properties.Handler'],
  )
})

test('a custom resource needs a ServiceToken', async (t) => {
  const diagnostics = await lint(broken((template) => delete template.Resources.Folders.Properties.ServiceToken))
  t.like(only(diagnostics, 'required-property')[0], {path: '$.Resources.Folders.Properties'})
})

test('more than 500 resources and more than 200 outputs break the quotas', async (t) => {
  const resources: Json = {}
  const outputs: Json = {}
  for (let i = 0; i < 501; i++) resources[`Topic${i}`] = {Type: 'AWS::SNS::Topic'}
  for (let i = 0; i < 201; i++) outputs[`Topic${i}`] = {Value: {Ref: `Topic${i}`}}
  const diagnostics = await lint({AWSTemplateFormatVersion: '2010-09-09', Resources: resources, Outputs: outputs})
  t.deepEqual(
    diagnostics.filter((d) => d.severity === 'error').map((d) => [d.rule, d.path, d.found]),
    [
      ['quota-resources', '$.Resources', '501'],
      ['quota-outputs', '$.Outputs', '201'],
    ],
  )
})

test('500 resources and 200 outputs are within quota', async (t) => {
  const resources: Json = {}
  const outputs: Json = {}
  for (let i = 0; i < 500; i++) resources[`Topic${i}`] = {Type: 'AWS::SNS::Topic'}
  for (let i = 0; i < 200; i++) outputs[`Topic${i}`] = {Value: {Ref: `Topic${i}`}}
  t.deepEqual(await lint({Resources: resources, Outputs: outputs}), [])
})

test('a body over 51,200 bytes is only a warning (too big to pass inline)', async (t) => {
  const diagnostics = await lint({Resources: {Topic: {Type: 'AWS::SNS::Topic', Properties: {DisplayName: 'x'.repeat(60_000)}}}})
  t.deepEqual(
    diagnostics.map((d) => [d.severity, d.rule, d.path]),
    [['warning', 'quota-template-size-inline', '$']],
  )
})

test('a body over 1,000,000 bytes is an error; a logical id over 255 characters is an error', async (t) => {
  const long = `A${'b'.repeat(255)}`
  const diagnostics = await lint({
    Resources: {[long]: {Type: 'AWS::SNS::Topic', Properties: {DisplayName: 'x'.repeat(1_000_001)}}},
  })
  t.deepEqual(diagnostics.map((d) => d.rule).sort(), ['quota-logical-id-length', 'quota-template-size'])
})

test('output names must be alphanumeric and outputs need a Value', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Outputs['bucket.name'] = {Value: 'x'}
      template.Outputs.Empty = {Description: 'no value'}
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path]),
    [
      ['template-structure', '$.Outputs.Empty'],
      ['logical-id', '$.Outputs["bucket.name"]'],
    ],
  )
})

test('unknown sections and resource attributes are refused with suggestions', async (t) => {
  const diagnostics = await lint(
    broken((template) => {
      template.Output = template.Outputs
      delete template.Outputs
      template.Resources.Bucket.DeletionPolcy = 'Retain'
    }),
  )
  t.deepEqual(
    diagnostics.map((d) => [d.rule, d.path, d.suggestion]),
    [
      ['template-section', '$.Output', 'Outputs'],
      ['resource-attribute', '$.Resources.Bucket.DeletionPolcy', 'DeletionPolicy'],
    ],
  )
})

test('Conditions may refer to parameters only', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Conditions.IsProd['Fn::Equals'][0] = {Ref: 'Bucket'})))
  t.like(diagnostics[0], {rule: 'ref-in-conditions', path: '$.Conditions.IsProd["Fn::Equals"][0].Ref'})
})

test('malformed intrinsics and templates without resources are refused, not thrown', async (t) => {
  const diagnostics = await lint(broken((template) => (template.Outputs.BucketName.Value = {'Fn::GetAtt': ['Bucket']})))
  t.like(only(diagnostics, 'intrinsic-shape')[0], {path: '$.Outputs.BucketName.Value["Fn::GetAtt"]'})
  t.like((await lint({Resources: {}}))[0], {rule: 'template-structure', path: '$.Resources'})
  t.like((await lint([1, 2]))[0], {rule: 'template-structure', path: '$'})
})

test('with spec: false the specification is not consulted', async (t) => {
  const template = broken((template) => (template.Resources.Bucket.Type = 'AWS::S3::Buckett'))
  t.deepEqual(await lintTemplate(template, {file: FILE, spec: false}), [])
})
