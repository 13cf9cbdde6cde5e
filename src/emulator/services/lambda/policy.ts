/**
 * A function's resource-based policy: what AddPermission writes (in AWS's own
 * statement shape: Principal {Service} or {AWS}, Condition ArnLike
 * AWS:SourceArn and StringEquals AWS:SourceAccount) and the check made when an
 * AWS service (S3, EventBridge, CloudFormation) invokes the function.
 */

import {AwsError} from '../../errors.js'
import {ACCOUNT_ID} from '../../types.js'
import {invalidParameter, resourceConflict, resourceNotFound} from './errors.js'

export interface PolicyStatement {
  Sid: string
  Effect: 'Allow'
  Principal: {Service: string} | {AWS: string} | '*'
  Action: string
  Resource: string
  Condition?: Record<string, Record<string, string>>
}

export interface AddPermissionInput {
  StatementId?: unknown
  Action?: unknown
  Principal?: unknown
  SourceArn?: unknown
  SourceAccount?: unknown
  EventSourceToken?: unknown
  PrincipalOrgID?: unknown
  FunctionUrlAuthType?: unknown
  RevisionId?: unknown
}

const STATEMENT_ID = /^([a-zA-Z0-9-_.]+)$/
const ACTION = /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/

/** AWS's shape of a new statement. */
export function makeStatement(input: AddPermissionInput, resource: string): PolicyStatement {
  const sid = input.StatementId
  if (typeof sid !== 'string' || !STATEMENT_ID.test(sid) || sid.length > 100)
    throw invalidParameter(`The statement id (${String(sid)}) is not valid: it must be 1-100 of [a-zA-Z0-9-_.].`)
  const action = input.Action
  if (typeof action !== 'string' || !ACTION.test(action)) throw invalidParameter(`The action ${String(action)} is not a Lambda action.`)
  const principal = input.Principal
  if (typeof principal !== 'string' || principal === '') throw invalidParameter('The principal is required.')
  let who: PolicyStatement['Principal']
  if (principal === '*') who = '*'
  else if (/^\d{12}$/.test(principal)) who = {AWS: `arn:aws:iam::${principal}:root`}
  else if (principal.startsWith('arn:')) who = {AWS: principal}
  else if (/\.amazonaws\.com$/.test(principal) || /\.amazonaws\.com\.cn$/.test(principal)) who = {Service: principal}
  else throw invalidParameter(`The provided principal was invalid. Please check the principal and try again.`)
  const statement: PolicyStatement = {Sid: sid, Effect: 'Allow', Principal: who, Action: action, Resource: resource}
  const condition: Record<string, Record<string, string>> = {}
  if (input.SourceAccount !== undefined) {
    if (typeof input.SourceAccount !== 'string' || !/^\d{12}$/.test(input.SourceAccount))
      throw invalidParameter(`The source account ${String(input.SourceAccount)} is not a 12-digit account id.`)
    condition.StringEquals = {'AWS:SourceAccount': input.SourceAccount}
  }
  if (input.SourceArn !== undefined) {
    if (typeof input.SourceArn !== 'string' || !input.SourceArn.startsWith('arn:'))
      throw invalidParameter(`The source ARN ${String(input.SourceArn)} is not an ARN.`)
    condition.ArnLike = {'AWS:SourceArn': input.SourceArn}
  }
  if (typeof input.PrincipalOrgID === 'string')
    condition.StringEquals = {...condition.StringEquals, 'aws:PrincipalOrgID': input.PrincipalOrgID}
  if (typeof input.EventSourceToken === 'string')
    condition.StringEquals = {...condition.StringEquals, 'lambda:EventSourceToken': input.EventSourceToken}
  if (typeof input.FunctionUrlAuthType === 'string')
    condition.StringEquals = {...condition.StringEquals, 'lambda:FunctionUrlAuthType': input.FunctionUrlAuthType}
  if (Object.keys(condition).length > 0) statement.Condition = condition
  return statement
}

export function addStatement(statements: PolicyStatement[], statement: PolicyStatement): void {
  if (statements.some((existing) => existing.Sid === statement.Sid))
    throw resourceConflict(
      `The statement id (${statement.Sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
    )
  if (JSON.stringify([...statements, statement]).length > 20_480)
    throw new AwsError('PolicyLengthExceededException', 'The final policy size is bigger than the limit (20480).', 400)
  statements.push(statement)
}

export function removeStatement(statements: PolicyStatement[], sid: string): void {
  const at = statements.findIndex((statement) => statement.Sid === sid)
  if (at < 0) throw resourceNotFound(`Statement ${sid} is not found in resource policy.`)
  statements.splice(at, 1)
}

export const policyDocument = (statements: PolicyStatement[]) =>
  JSON.stringify({Version: '2012-10-17', Id: 'default', Statement: statements})

/** ArnLike: `*` any run of characters, `?` one; each of the six ARN parts compared on its own. */
function arnLike(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  )
  return regex.test(value)
}

const actionAllows = (action: string) => action === '*' || action === 'lambda:*' || action.toLowerCase() === 'lambda:invokefunction'

/** Whether the policy lets an AWS service principal invoke, for this source; the reason when it does not. */
export function servicePermission(
  statements: readonly PolicyStatement[],
  principal: string,
  sourceArn: string | undefined,
  sourceAccount: string | undefined,
): {allowed: true; sid: string} | {allowed: false; reason: string} {
  const named = statements.filter(
    (statement) =>
      actionAllows(statement.Action) &&
      (statement.Principal === '*' ||
        (typeof statement.Principal === 'object' && 'Service' in statement.Principal && statement.Principal.Service === principal)),
  )
  if (named.length === 0)
    return {
      allowed: false,
      reason:
        statements.length === 0
          ? `the function has no resource-based policy: add one with lambda add-permission --principal ${principal}`
          : `no statement of its resource-based policy allows ${principal} to call lambda:InvokeFunction`,
    }
  const reasons: string[] = []
  for (const statement of named) {
    const wantArn = statement.Condition?.ArnLike?.['AWS:SourceArn'] ?? statement.Condition?.ArnEquals?.['AWS:SourceArn']
    const wantAccount = statement.Condition?.StringEquals?.['AWS:SourceAccount']
    if (wantArn !== undefined && (sourceArn === undefined || !arnLike(wantArn, sourceArn))) {
      reasons.push(`statement ${statement.Sid} allows only source ${wantArn}, not ${sourceArn ?? 'an unnamed source'}`)
      continue
    }
    if (wantAccount !== undefined && wantAccount !== (sourceAccount ?? ACCOUNT_ID)) {
      reasons.push(`statement ${statement.Sid} allows only source account ${wantAccount}, not ${sourceAccount ?? ACCOUNT_ID}`)
      continue
    }
    return {allowed: true, sid: statement.Sid}
  }
  return {allowed: false, reason: reasons.join('; ')}
}
