// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${aws:username} is IAM policy-variable syntax, not a JS template
import test from 'ava'
import fc from 'fast-check'
import {type PolicyDocument, type PolicyStatement, parsePolicyDocument} from '../../../src/emulator/policy/document.js'
import {evaluatePolicies, requestValues} from '../../../src/emulator/policy/evaluate.js'
import {arnMatches, wildcardMatch} from '../../../src/emulator/policy/match.js'
import {groupPolicy, oracleDecision, valuesOf} from './oracle.js'

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({Version: '2012-10-17', Statement})
const decide = (policies: PolicyDocument[], action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  evaluatePolicies(policies, {action, resource, values: valuesOf(context)})

test('explicit deny beats allow, allow beats implicit deny', (t) => {
  const allow = doc({Effect: 'Allow', Action: 's3:*', Resource: '*'})
  const deny = doc({Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*'})
  t.is(decide([allow, deny], 's3:DeleteObject', 'arn:aws:s3:::b/k'), 'explicitDeny')
  t.is(decide([allow, deny], 's3:GetObject', 'arn:aws:s3:::b/k'), 'allow')
  t.is(decide([deny], 's3:GetObject', 'arn:aws:s3:::b/k'), 'implicitDeny')
  t.is(decide([], 's3:GetObject', 'arn:aws:s3:::b/k'), 'implicitDeny')
})

test('actions match case-insensitively, resources case-sensitively, ? is one character', (t) => {
  const policy = doc({Effect: 'Allow', Action: 'S3:get*', Resource: 'arn:aws:s3:::Bucket/a?c'})
  t.is(decide([policy], 's3:GetObject', 'arn:aws:s3:::Bucket/abc'), 'allow')
  t.is(decide([policy], 's3:GetObject', 'arn:aws:s3:::bucket/abc'), 'implicitDeny')
  t.is(decide([policy], 's3:GetObject', 'arn:aws:s3:::Bucket/abbc'), 'implicitDeny')
  t.true(wildcardMatch('a*', 'a'))
  t.false(arnMatches('arn:aws:s3:::*', 'arn:aws:iam::000000000000:user/x'))
  t.true(arnMatches('arn:aws:iam::*:user/*', 'arn:aws:iam::000000000000:user/path/x'))
})

test('NotAction and NotResource invert their match', (t) => {
  const policy = doc({Effect: 'Allow', NotAction: 'iam:*', NotResource: 'arn:aws:s3:::secret/*'})
  t.is(decide([policy], 's3:GetObject', 'arn:aws:s3:::open/k'), 'allow')
  t.is(decide([policy], 's3:GetObject', 'arn:aws:s3:::secret/k'), 'implicitDeny')
  t.is(decide([policy], 'iam:CreateUser', 'arn:aws:s3:::open/k'), 'implicitDeny')
})

test('policy variables expand in 2012-10-17 policies only, and their values are literal', (t) => {
  const resource = 'arn:aws:s3:::b/${aws:username}/*'
  const modern = doc({Effect: 'Allow', Action: 's3:GetObject', Resource: resource})
  const legacy: PolicyDocument = {Version: '2008-10-17', Statement: {Effect: 'Allow', Action: 's3:GetObject', Resource: resource}}
  t.is(decide([modern], 's3:GetObject', 'arn:aws:s3:::b/alice/k', {'aws:username': 'alice'}), 'allow')
  t.is(decide([modern], 's3:GetObject', 'arn:aws:s3:::b/bob/k', {'aws:username': 'alice'}), 'implicitDeny')
  t.is(decide([modern], 's3:GetObject', 'arn:aws:s3:::b/alice/k'), 'implicitDeny', 'a missing variable matches nothing')
  t.is(decide([legacy], 's3:GetObject', 'arn:aws:s3:::b/alice/k', {'aws:username': 'alice'}), 'implicitDeny')
  t.is(decide([legacy], 's3:GetObject', 'arn:aws:s3:::b/${aws:username}/k', {'aws:username': 'alice'}), 'allow')
  const star = doc({Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${*}'})
  t.is(decide([star], 's3:GetObject', 'arn:aws:s3:::b/*'), 'allow')
  t.is(decide([star], 's3:GetObject', 'arn:aws:s3:::b/x'), 'implicitDeny')
  const withDefault = doc({Effect: 'Allow', Action: 's3:GetObject', Resource: "arn:aws:s3:::b/${aws:username, 'shared'}/*"})
  t.is(decide([withDefault], 's3:GetObject', 'arn:aws:s3:::b/shared/k'), 'allow')
})

test('conditions: IfExists, set operators, Null, Bool, Numeric, ArnLike, several keys AND', (t) => {
  const allow = (Condition: PolicyStatement['Condition']) => [doc({Effect: 'Allow', Action: '*', Resource: '*', Condition})]
  const r = (policies: PolicyDocument[], context: Record<string, string | string[]>) =>
    decide(policies, 's3:ListBucket', 'arn:aws:s3:::b', context)
  t.is(r(allow({StringLikeIfExists: {'s3:prefix': 'a/*'}}), {}), 'allow')
  t.is(r(allow({StringLike: {'s3:prefix': 'a/*'}}), {}), 'implicitDeny')
  t.is(r(allow({StringNotLike: {'s3:prefix': 'a/*'}}), {}), 'allow')
  t.is(r(allow({'ForAnyValue:StringEquals': {'aws:TagKeys': ['x', 'y']}}), {'aws:TagKeys': ['z', 'y']}), 'allow')
  t.is(r(allow({'ForAllValues:StringEquals': {'aws:TagKeys': ['x', 'y']}}), {'aws:TagKeys': ['z', 'y']}), 'implicitDeny')
  t.is(r(allow({'ForAllValues:StringEquals': {'aws:TagKeys': ['x']}}), {}), 'allow')
  t.is(r(allow({'ForAnyValue:StringEquals': {'aws:TagKeys': ['x']}}), {}), 'implicitDeny')
  t.is(r(allow({Null: {'s3:prefix': 'true'}}), {}), 'allow')
  t.is(r(allow({Null: {'s3:prefix': 'false'}}), {}), 'implicitDeny')
  t.is(r(allow({Bool: {'aws:SecureTransport': 'false'}}), {'aws:SecureTransport': 'false'}), 'allow')
  t.is(r(allow({NumericLessThan: {'s3:max-keys': '10'}}), {'s3:max-keys': '5'}), 'allow')
  t.is(r(allow({NumericLessThan: {'s3:max-keys': '10'}}), {'s3:max-keys': '50'}), 'implicitDeny')
  t.is(
    r(allow({ArnLike: {'aws:PrincipalArn': 'arn:aws:iam::*:user/a*'}}), {'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/alice'}),
    'allow',
  )
  t.is(r(allow({StringEquals: {'s3:prefix': 'a/', 's3:delimiter': '/'}}), {'s3:prefix': 'a/'}), 'implicitDeny')
  t.is(r(allow({StringEquals: {'S3:Prefix': ['x/', 'a/']}}), {'s3:prefix': 'a/'}), 'allow', 'keys case-insensitive, values OR')
  t.is(r(allow({StringEqualsIgnoreCase: {'s3:prefix': 'A/'}}), {'s3:prefix': 'a/'}), 'allow')
})

test('requestValues carries the principal keys a policy can test', (t) => {
  const values = requestValues(
    {
      kind: 'user',
      accountId: '000000000000',
      arn: 'arn:aws:iam::000000000000:user/alice',
      userId: 'AIDAEXAMPLE',
      accessKeyId: 'AKIA',
      userName: 'alice',
    },
    {'s3:prefix': 'alpha/'},
  )
  t.deepEqual(values.get('aws:username'), ['alice'])
  t.deepEqual(values.get('aws:principalarn'), ['arn:aws:iam::000000000000:user/alice'])
  t.deepEqual(values.get('s3:prefix'), ['alpha/'])
})

test('parsePolicyDocument refuses what IAM refuses', (t) => {
  t.throws(() => parsePolicyDocument('{'), {message: /Syntax errors/})
  t.throws(() => parsePolicyDocument('{"Version":"2012-10-17","Statement":[]}'), {message: /Statement/})
  t.throws(() => parsePolicyDocument('{"Statement":{"Effect":"Allow","Action":"s3:GetObject"}}'), {message: /Resource/})
  t.throws(() => parsePolicyDocument('{"Statement":{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}}'), {message: /Effect/})
  t.throws(() => parsePolicyDocument('{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}'), {message: /vendor/})
  t.throws(() => parsePolicyDocument('{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}'), {message: /ARN/})
  t.throws(
    () => parsePolicyDocument('{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringSorta":{"a:b":"c"}}}}'),
    {
      message: /Condition type/,
    },
  )
  t.throws(() => parsePolicyDocument('{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}', 'trust'), {message: /Principal/})
  t.truthy(
    parsePolicyDocument('{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}', 'trust'),
  )
})

// ---- differential against iam-simulate ----

const objectActions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:GetObjectTagging']
const groups = ['alpha', 'beta', 'gamma']
const folders = ['inputs', 'configs', 'submissions', 'results', 'logs']

test('generated group policies: same decision as iam-simulate on every group × action × folder', async (t) => {
  const policies = [groupPolicy('matrix-bucket', 'alpha'), groupPolicy('matrix-bucket', 'beta')]
  let cases = 0
  for (const policy of policies) {
    for (const group of groups) {
      for (const action of objectActions) {
        for (const folder of [...folders, '']) {
          const resource = `arn:aws:s3:::matrix-bucket/${group}/${folder ? `${folder}/` : ''}file.txt`
          t.is(decide([policy], action, resource), await oracleDecision([policy], action, resource, {}), `${action} ${resource}`)
          cases++
        }
      }
      for (const prefix of [`${group}/`, `${group}/inputs/`, group, '', `${group}x/`, undefined]) {
        const context: Record<string, string> = prefix === undefined ? {} : {'s3:prefix': prefix}
        const bucketArn = 'arn:aws:s3:::matrix-bucket'
        t.is(
          decide([policy], 's3:ListBucket', bucketArn, context),
          await oracleDecision([policy], 's3:ListBucket', bucketArn, context),
          `list ${prefix}`,
        )
        cases++
      }
    }
  }
  t.true(cases > 200)
})

const segment = fc.constantFrom('alpha', 'beta', 'a', 'ab', 'inputs', 'results')
const objectKey = fc.array(segment, {minLength: 1, maxLength: 3}).map((parts) => parts.join('/'))
const wildcardize = (text: string) =>
  fc.constantFrom(0, 1, 2, 3).map((mode) => {
    if (mode === 0 || text.length === 0) return text
    if (mode === 1) return `${text.slice(0, Math.max(1, text.length - 2))}*`
    if (mode === 2) return `?${text.slice(1)}`
    return `*${text.slice(Math.floor(text.length / 2))}`
  })
const bucketName = fc.constantFrom('b1', 'b2')
const objectResourcePattern = fc.oneof(
  fc.constant('*'),
  fc.tuple(bucketName, objectKey).chain(([bucket, key]) => wildcardize(key).map((pattern) => `arn:aws:s3:::${bucket}/${pattern}`)),
  bucketName.map((bucket) => `arn:aws:s3:::${bucket}/*`),
  bucketName.map((bucket) => `arn:aws:s3:::${bucket}`),
)
const actionPattern = fc.oneof(
  fc.constantFrom(...objectActions, 's3:ListBucket'),
  fc.constantFrom('s3:*', 's3:Get*', 's3:*Object', 's3:?etObject', '*', 's3:list*'),
)
const condition = fc.option(
  fc.record({
    operator: fc.constantFrom(
      'StringLike',
      'StringEquals',
      'StringNotLike',
      'StringNotEquals',
      'StringLikeIfExists',
      'ForAnyValue:StringLike',
    ),
    values: fc.array(
      fc.oneof(
        objectKey,
        objectKey.map((key) => `${key}/*`),
        objectKey.map((key) => `${key}/`),
      ),
      {minLength: 1, maxLength: 2},
    ),
  }),
  {nil: undefined},
)
const statement: fc.Arbitrary<PolicyStatement> = fc
  .record({
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny'),
    actions: fc.array(actionPattern, {minLength: 1, maxLength: 3}),
    notAction: fc.nat(9).map((n) => n < 3),
    resources: fc.array(objectResourcePattern, {minLength: 1, maxLength: 3}),
    notResource: fc.nat(9).map((n) => n === 0),
    condition,
  })
  .map(({effect, actions, notAction, resources, notResource, condition: cond}) => ({
    Effect: effect,
    ...(notAction ? {NotAction: actions} : {Action: actions}),
    ...(notResource ? {NotResource: resources} : {Resource: resources}),
    ...(cond ? {Condition: {[cond.operator]: {'s3:prefix': cond.values}}} : {}),
  }))
const request = fc.oneof(
  fc.record({
    action: fc.constantFrom(...objectActions),
    resource: fc.tuple(bucketName, objectKey).map(([b, k]) => `arn:aws:s3:::${b}/${k}`),
    prefix: fc.constant(undefined),
  }),
  fc.record({
    action: fc.constant('s3:ListBucket'),
    resource: bucketName.map((b) => `arn:aws:s3:::${b}`),
    prefix: fc.option(
      fc.oneof(
        objectKey,
        objectKey.map((key) => `${key}/`),
      ),
      {nil: undefined},
    ),
  }),
)

test('random policies and requests: same decision as iam-simulate', async (t) => {
  let compared = 0
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(statement, {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 2}),
      fc.array(request, {minLength: 1, maxLength: 5}),
      async (policyStatements, requests) => {
        const policies = policyStatements.map((statements) => doc(...statements))
        for (const {action, resource, prefix} of requests) {
          const context: Record<string, string> = prefix === undefined ? {} : {'s3:prefix': prefix}
          const expected = await oracleDecision(policies, action, resource, context)
          const actual = decide(policies, action, resource, context)
          if (actual !== expected)
            throw new Error(
              `${action} ${resource} ${JSON.stringify(context)}: ours ${actual}, oracle ${expected}\n${JSON.stringify(policies)}`,
            )
          compared++
        }
      },
    ),
    {numRuns: 400},
  )
  t.log(`${compared} random requests compared`)
  t.true(compared >= 400)
})
