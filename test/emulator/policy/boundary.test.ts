/**
 * Permissions boundaries in the evaluator: an action needs an allow from both
 * the identity policies and the boundary, and a deny in either wins. Checked
 * case by case and against iam-simulate on random policies and boundaries.
 */
import test from 'ava'
import fc from 'fast-check'
import type {PolicyDocument, PolicyStatement} from '../../../src/emulator/policy/document.js'
import {evaluateWithBoundary} from '../../../src/emulator/policy/evaluate.js'
import {oracleDecision, valuesOf} from './oracle.js'

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({Version: '2012-10-17', Statement})
const decide = (identity: PolicyDocument[], boundary: PolicyDocument[] | undefined, action: string, resource: string) =>
  evaluateWithBoundary(identity, boundary, {action, resource, values: valuesOf({})})

const S3_ALL = doc({Effect: 'Allow', Action: 's3:*', Resource: '*'})
const READ_ONLY = doc({Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*'})
const OBJECT = 'arn:aws:s3:::b/k'

test('the boundary caps the identity policies: both must allow', (t) => {
  t.is(decide([S3_ALL], undefined, 's3:PutObject', OBJECT), 'allow', 'no boundary: identity decides')
  t.is(decide([S3_ALL], [READ_ONLY], 's3:GetObject', OBJECT), 'allow')
  t.is(decide([S3_ALL], [READ_ONLY], 's3:PutObject', OBJECT), 'implicitDeny', 'identity allows, boundary does not')
  t.is(decide([READ_ONLY], [S3_ALL], 's3:PutObject', OBJECT), 'implicitDeny', 'a boundary grants nothing by itself')
  t.is(decide([], [S3_ALL], 's3:GetObject', OBJECT), 'implicitDeny')
  t.is(decide([S3_ALL], [], 's3:GetObject', OBJECT), 'implicitDeny', 'an empty boundary (its policy gone) allows nothing')
  const denyDelete = doc({Effect: 'Allow', Action: 's3:*', Resource: '*'}, {Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*'})
  t.is(decide([S3_ALL], [denyDelete], 's3:DeleteObject', OBJECT), 'explicitDeny', 'a deny in the boundary is explicit')
  t.is(decide([doc({Effect: 'Deny', Action: 's3:GetObject', Resource: '*'})], [S3_ALL], 's3:GetObject', OBJECT), 'explicitDeny')
})

const action = fc.constantFrom('s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 'iam:ListUsers')
const actionPattern = fc.oneof(action, fc.constantFrom('s3:*', 's3:Get*', '*', 'iam:List*', 's3:*Object'))
const resource = fc.constantFrom('arn:aws:s3:::b1/a', 'arn:aws:s3:::b1/b/c', 'arn:aws:s3:::b2/a', 'arn:aws:s3:::b1')
const resourcePattern = fc.oneof(resource, fc.constantFrom('*', 'arn:aws:s3:::b1/*', 'arn:aws:s3:::b?/a', 'arn:aws:s3:::*'))
const statement: fc.Arbitrary<PolicyStatement> = fc
  .record({
    effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Allow', 'Deny'),
    actions: fc.array(actionPattern, {minLength: 1, maxLength: 3}),
    notAction: fc.nat(9).map((n) => n === 0),
    resources: fc.array(resourcePattern, {minLength: 1, maxLength: 2}),
  })
  .map(({effect, actions, notAction, resources}) => ({
    Effect: effect,
    ...(notAction ? {NotAction: actions} : {Action: actions}),
    Resource: resources,
  }))
/** Requests the simulator accepts: object actions on objects, ListBucket on buckets, iam:ListUsers on no resource. */
const request = fc.oneof(
  fc.tuple(
    fc.constantFrom('s3:GetObject', 's3:PutObject', 's3:DeleteObject'),
    fc.constantFrom('arn:aws:s3:::b1/a', 'arn:aws:s3:::b1/b/c', 'arn:aws:s3:::b2/a'),
  ),
  fc.tuple(fc.constant('s3:ListBucket'), fc.constantFrom('arn:aws:s3:::b1', 'arn:aws:s3:::b2')),
  fc.tuple(fc.constant('iam:ListUsers'), fc.constant('*')),
)
const policies = fc.array(
  fc.array(statement, {minLength: 1, maxLength: 3}).map((statements) => doc(...statements)),
  {minLength: 0, maxLength: 2},
)

test('random identity policies and boundaries: same decision as iam-simulate', async (t) => {
  let compared = 0
  await fc.assert(
    fc.asyncProperty(
      policies,
      fc.array(statement, {minLength: 1, maxLength: 3}).map((statements) => doc(...statements)),
      fc.array(request, {minLength: 1, maxLength: 4}),
      async (identity, boundary, requests) => {
        for (const [act, res] of requests) {
          const expected = await oracleDecision(identity, act, res, {}, [boundary])
          const actual = decide(identity, [boundary], act, res)
          if (actual !== expected)
            throw new Error(`${act} ${res}: ours ${actual}, oracle ${expected}\n${JSON.stringify({identity, boundary})}`)
          compared++
        }
      },
    ),
    {numRuns: 300},
  )
  t.log(`${compared} random requests with a boundary compared`)
  t.true(compared >= 300)
})
