/** iam-simulate (AGPL, dev dependency only) as the oracle ncap's evaluator is compared with. */
import {runSimulation} from '@cloud-copilot/iam-simulate'
import type {PolicyDocument, PolicyStatement} from '../../../src/emulator/policy/document.js'
import type {AuthorizationDecision} from '../../../src/emulator/types.js'

export const ACCOUNT = '000000000000'

export async function oracleDecision(
  policies: PolicyDocument[],
  action: string,
  resource: string,
  context: Record<string, string | string[]>,
  /** The principal's permissions boundary, when it has one. */
  boundaries?: PolicyDocument[],
): Promise<AuthorizationDecision> {
  const result = await runSimulation(
    {
      identityPolicies: policies.map((policy, index) => ({name: `p${index}`, policy: policy as unknown as Record<string, unknown>})),
      ...(boundaries
        ? {permissionBoundaryPolicies: boundaries.map((policy, index) => ({name: `b${index}`, policy: policy as unknown as object}))}
        : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: `arn:aws:iam::${ACCOUNT}:user/alice`,
        resource: {accountId: ACCOUNT, resource},
        contextVariables: context,
      },
    } as Parameters<typeof runSimulation>[0],
    {},
  )
  if (result.resultType === 'error') throw new Error(`iam-simulate refused the simulation: ${JSON.stringify(result.errors)}`)
  const overall = (result as {overallResult: string}).overallResult
  if (overall === 'Allowed') return 'allow'
  if (overall === 'ExplicitlyDenied') return 'explicitDeny'
  if (overall === 'ImplicitlyDenied') return 'implicitDeny'
  throw new Error(`iam-simulate answered ${overall}`)
}

export function valuesOf(context: Record<string, string | string[]>): Map<string, string[]> {
  return new Map(Object.entries(context).map(([key, value]) => [key.toLowerCase(), Array.isArray(value) ? value : [value]]))
}

/** The policy ncap's compiler emits for one group of a bucket (DESIGN §4 folders). */
export function groupPolicy(bucket: string, group: string): PolicyDocument {
  const objects = (...folders: string[]) => folders.map((folder) => `arn:aws:s3:::${bucket}/${group}/${folder}/*`)
  const statements: PolicyStatement[] = [
    {
      Sid: 'Write',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: objects('inputs', 'configs', 'submissions'),
    },
    {Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: objects('results', 'configs')},
    {
      Sid: 'List',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: {StringLike: {'s3:prefix': [`${group}/*`, `${group}/`]}},
    },
  ]
  return {Version: '2012-10-17', Statement: statements}
}
