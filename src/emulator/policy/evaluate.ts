/**
 * IAM policy evaluation for the emulator: identity-based policies (a user's
 * inline and attached policies plus its groups', or an assumed role's),
 * narrowed by the principal's permissions boundary when it has one (an action
 * needs an allow from both) and by an assumed role's session policies.
 * S3 bucket policies and SCPs are not evaluated here. Explicit deny beats
 * allow beats implicit deny.
 */
import type {AuthorizationDecision, ConditionContext, Principal} from '../types.js'
import {conditionMatches, type RequestValues, substituteVariables} from './conditions.js'
import {asList, type PolicyDocument, type PolicyStatement, statementsOf} from './document.js'
import {actionMatches, arnMatches} from './match.js'

export interface PolicyRequest {
  action: string
  resource: string
  values: RequestValues
}

/** Variables (policy version 2012-10-17 only) are literal text in older policies. */
const expandsVariables = (document: PolicyDocument) => document.Version === '2012-10-17'

function resourceMatches(patterns: string[], request: PolicyRequest, expand: boolean): boolean {
  return patterns.some((raw) => {
    const pattern = expand ? substituteVariables(raw, request.values) : raw
    return pattern !== undefined && arnMatches(pattern, request.resource)
  })
}

function statementApplies(statement: PolicyStatement, request: PolicyRequest, expand: boolean): boolean {
  const actionHit =
    statement.Action !== undefined
      ? asList(statement.Action).some((pattern) => actionMatches(pattern, request.action))
      : !asList(statement.NotAction).some((pattern) => actionMatches(pattern, request.action))
  if (!actionHit) return false
  const resourceHit =
    statement.Resource !== undefined
      ? resourceMatches(asList(statement.Resource), request, expand)
      : !resourceMatches(asList(statement.NotResource), request, expand)
  if (!resourceHit) return false
  return statement.Condition === undefined || conditionMatches(statement.Condition, request.values, expand)
}

/** The decision of a set of identity policies on one request. */
export function evaluatePolicies(policies: readonly PolicyDocument[], request: PolicyRequest): AuthorizationDecision {
  let allowed = false
  for (const document of policies) {
    const expand = expandsVariables(document)
    for (const statement of statementsOf(document)) {
      if (!statementApplies(statement, request, expand)) continue
      if (statement.Effect === 'Deny') return 'explicitDeny'
      allowed = true
    }
  }
  return allowed ? 'allow' : 'implicitDeny'
}

/**
 * Identity policies limited by a permissions boundary, as AWS evaluates them:
 * an explicit deny in either refuses; otherwise the action is allowed only when
 * both the identity policies and the boundary allow it. With no boundary
 * (undefined) the identity policies decide alone; an empty boundary list allows nothing.
 */
export function evaluateWithBoundary(
  identity: readonly PolicyDocument[],
  boundary: readonly PolicyDocument[] | undefined,
  request: PolicyRequest,
): AuthorizationDecision {
  const fromIdentity = evaluatePolicies(identity, request)
  if (boundary === undefined || fromIdentity === 'explicitDeny') return fromIdentity
  const fromBoundary = evaluatePolicies(boundary, request)
  if (fromBoundary !== 'allow') return fromBoundary
  return fromIdentity
}

/**
 * The request context IAM builds for a principal (aws:username, aws:userid,
 * aws:PrincipalArn, …) merged with the service's own keys (s3:prefix, …).
 * Keys are case-insensitive, so they are stored lower-cased.
 */
export function requestValues(principal: Principal, context: ConditionContext = {}, now = new Date()): Map<string, string[]> {
  const values = new Map<string, string[]>()
  const set = (key: string, value: string | string[] | undefined) => {
    if (value === undefined) return
    values.set(key.toLowerCase(), Array.isArray(value) ? value : [value])
  }
  set('aws:PrincipalAccount', principal.accountId)
  set('aws:userid', principal.userId)
  set('aws:PrincipalArn', principal.kind === 'role' ? principal.roleArn : principal.arn)
  set('aws:PrincipalType', principal.kind === 'root' ? 'Account' : principal.kind === 'user' ? 'User' : 'AssumedRole')
  if (principal.kind === 'user') set('aws:username', principal.userName)
  if (principal.kind === 'role') set('aws:RoleSessionName', principal.sessionName)
  set('aws:CurrentTime', now.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  set('aws:EpochTime', String(Math.floor(now.getTime() / 1000)))
  set('aws:SecureTransport', 'false')
  for (const [key, value] of Object.entries(context)) set(key, value)
  return values
}
