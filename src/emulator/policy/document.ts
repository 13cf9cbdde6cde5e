/**
 * Policy documents: their shape and the checks IAM makes before storing one
 * (MalformedPolicyDocument otherwise). Identity policies need Action and
 * Resource and may not name a Principal; trust policies (a role's
 * AssumeRolePolicyDocument) need a Principal instead of a Resource.
 */
import {parseOperator} from './conditions.js'

export type StringOrList = string | string[]

export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action?: StringOrList
  NotAction?: StringOrList
  Resource?: StringOrList
  NotResource?: StringOrList
  Principal?: '*' | Record<string, StringOrList>
  NotPrincipal?: '*' | Record<string, StringOrList>
  Condition?: Record<string, Record<string, unknown>>
}

export interface PolicyDocument {
  Version?: string
  Id?: string
  Statement: PolicyStatement | PolicyStatement[]
}

export type PolicyKind = 'identity' | 'trust'

export class PolicyDocumentError extends Error {}

export const asList = (value: StringOrList | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

export const statementsOf = (document: PolicyDocument): PolicyStatement[] =>
  Array.isArray(document.Statement) ? document.Statement : [document.Statement]

const isStringOrList = (value: unknown): value is StringOrList =>
  typeof value === 'string' || (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function checkStatement(statement: unknown, kind: PolicyKind): void {
  if (!isObject(statement)) throw new PolicyDocumentError('Syntax errors in policy.')
  const allowed = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition'])
  for (const field of Object.keys(statement)) {
    if (!allowed.has(field)) throw new PolicyDocumentError(`Syntax errors in policy: unknown field ${field}.`)
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw new PolicyDocumentError('Missing required field Effect')
  const hasAction = statement.Action !== undefined
  if (hasAction === (statement.NotAction !== undefined)) throw new PolicyDocumentError('Missing required field Action')
  const actions = statement.Action ?? statement.NotAction
  if (!isStringOrList(actions)) throw new PolicyDocumentError('Syntax errors in policy: Action must be a string or a list of strings.')
  for (const action of asList(actions)) {
    if (action !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]*$/.test(action)) {
      throw new PolicyDocumentError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (${action})`)
    }
  }
  const hasResource = statement.Resource !== undefined || statement.NotResource !== undefined
  if (statement.Resource !== undefined && statement.NotResource !== undefined)
    throw new PolicyDocumentError('Statement cannot have both Resource and NotResource.')
  const hasPrincipal = statement.Principal !== undefined || statement.NotPrincipal !== undefined
  if (kind === 'identity') {
    if (!hasResource) throw new PolicyDocumentError('Missing required field Resource')
    if (hasPrincipal) throw new PolicyDocumentError('Policy document should not specify a principal.')
  } else if (!hasPrincipal) {
    throw new PolicyDocumentError('Missing required field Principal')
  }
  if (hasResource) {
    const resources = statement.Resource ?? statement.NotResource
    if (!isStringOrList(resources))
      throw new PolicyDocumentError('Syntax errors in policy: Resource must be a string or a list of strings.')
    for (const resource of asList(resources)) {
      if (resource !== '*' && !resource.startsWith('arn:'))
        throw new PolicyDocumentError(`Resource ${resource} must be in ARN format or "*".`)
    }
  }
  if (statement.Condition !== undefined) {
    if (!isObject(statement.Condition)) throw new PolicyDocumentError('Syntax errors in policy: Condition must be an object.')
    for (const [operator, keys] of Object.entries(statement.Condition)) {
      const parsed = parseOperator(operator)
      if (!parsed.base && !parsed.isNull) throw new PolicyDocumentError(`Invalid Condition type : ${operator}.`)
      if (!isObject(keys)) throw new PolicyDocumentError(`Syntax errors in policy: condition ${operator} must map keys to values.`)
    }
  }
}

/** Parses and checks a policy document as IAM's Put/Create calls do; throws PolicyDocumentError with AWS's wording. */
export function parsePolicyDocument(text: string, kind: PolicyKind = 'identity'): PolicyDocument {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new PolicyDocumentError('Syntax errors in policy.')
  }
  if (!isObject(value)) throw new PolicyDocumentError('Syntax errors in policy.')
  if (value.Version !== undefined && value.Version !== '2012-10-17' && value.Version !== '2008-10-17') {
    throw new PolicyDocumentError('The policy failed legacy parsing')
  }
  const statements = value.Statement
  if (statements === undefined || (Array.isArray(statements) && statements.length === 0))
    throw new PolicyDocumentError('Missing required field Statement')
  for (const statement of Array.isArray(statements) ? statements : [statements]) checkStatement(statement, kind)
  return value as unknown as PolicyDocument
}
