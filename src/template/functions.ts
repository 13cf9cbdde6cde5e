/**
 * One Lambda function as ncap deploys it: the function, its own role (least
 * privilege: its log group plus what the caller grants), an explicit log group
 * with a retention, and an asset parameter for its code (CDK-style: `ncap deploy`
 * bundles the folder named in the function's `ncap:asset` metadata, uploads it,
 * and passes the bucket and key).
 */
import {NcapError} from '../errors.js'
import {getAtt, ref, sub, type TemplateParts} from './types.js'

export const LAMBDA_RUNTIME = 'nodejs22.x'
/** For handlers written in Python (NeuroCAAS's post-processing functions). */
export const LAMBDA_PYTHON_RUNTIME = 'python3.12'
export const LOG_RETENTION_DAYS = 90
/** Lambda's limit on the environment: all keys and values together. */
export const LAMBDA_ENV_LIMIT_BYTES = 4096

export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: unknown
  Condition?: Record<string, unknown>
}

export const policyDocument = (statements: PolicyStatement[]) => ({Version: '2012-10-17', Statement: statements})

export function assumeRolePolicy(service: string) {
  return {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: service}, Action: 'sts:AssumeRole'}]}
}

export interface FunctionSpec {
  /** Stem of the logical ids: 'Submit' -> SubmitFunction, SubmitRole, SubmitLogGroup, SubmitCodeKey. */
  stem: string
  /** The function's physical name (at most 64 characters). */
  name: string
  description: string
  /** The code folder, relative to the config folder (posix separators). */
  asset: string
  handler: string
  /** nodejs22.x unless given (python3.12 for Python handlers). */
  runtime?: string
  timeout: number
  memorySize?: number
  environment?: Record<string, unknown>
  /** Grants beyond writing its own logs. */
  statements: PolicyStatement[]
  /** Where an environment error points the user to. */
  configPath?: string
}

export interface FunctionIds {
  functionId: string
  roleId: string
  logGroupId: string
}

export const ASSETS_BUCKET_PARAMETER = 'AssetsBucket'

export function addFunction(parts: TemplateParts, spec: FunctionSpec): FunctionIds {
  const functionId = `${spec.stem}Function`
  const roleId = `${spec.stem}Role`
  const logGroupId = `${spec.stem}LogGroup`
  const codeKey = `${spec.stem}CodeKey`
  if (!(ASSETS_BUCKET_PARAMETER in parts.parameters)) {
    parts.parameter(ASSETS_BUCKET_PARAMETER, {
      Type: 'String',
      Description: 'S3 bucket holding the bundled Lambda code (ncap deploy uploads it)',
    })
  }
  parts.parameter(codeKey, {Type: 'String', Description: `S3 key of the bundled code of ${spec.asset}`})

  const logGroupName = `/aws/lambda/${spec.name}`
  parts.resource(logGroupId, {
    Type: 'AWS::Logs::LogGroup',
    Properties: {LogGroupName: logGroupName, RetentionInDays: LOG_RETENTION_DAYS},
  })
  const logStatement: PolicyStatement = {
    Sid: 'OwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${logGroupName}:*`),
  }
  parts.resource(roleId, {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `Role of the Lambda function ${spec.name}`,
      AssumeRolePolicyDocument: assumeRolePolicy('lambda.amazonaws.com'),
      Policies: [{PolicyName: `${spec.stem}Policy`, PolicyDocument: policyDocument([logStatement, ...spec.statements])}],
    },
  })

  const properties: Record<string, unknown> = {
    FunctionName: spec.name,
    Description: spec.description,
    Runtime: spec.runtime ?? LAMBDA_RUNTIME,
    Handler: spec.handler,
    Code: {S3Bucket: ref(ASSETS_BUCKET_PARAMETER), S3Key: ref(codeKey)},
    Role: getAtt(roleId, 'Arn'),
    Timeout: spec.timeout,
    MemorySize: spec.memorySize ?? 256,
  }
  if (spec.environment) {
    checkEnvironmentSize(spec.name, spec.environment, spec.configPath)
    properties.Environment = {Variables: spec.environment}
  }
  parts.resource(functionId, {
    Type: 'AWS::Lambda::Function',
    // The function must not run (and create its own log group) before ours exists.
    DependsOn: [logGroupId],
    Metadata: {'ncap:asset': spec.asset},
    Properties: properties,
  })
  return {functionId, roleId, logGroupId}
}

/** Values given as intrinsics resolve at deploy time: count them at the longest an ARN or id can be. */
const INTRINSIC_VALUE_BYTES = 140

export function environmentBytes(environment: Record<string, unknown>): number {
  let total = 0
  for (const [key, value] of Object.entries(environment)) {
    total += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : INTRINSIC_VALUE_BYTES)
  }
  return total
}

function checkEnvironmentSize(name: string, environment: Record<string, unknown>, configPath?: string): void {
  const bytes = environmentBytes(environment)
  if (bytes > LAMBDA_ENV_LIMIT_BYTES) {
    throw new NcapError(
      `the environment of Lambda function ${name} would be ${bytes} bytes; Lambda allows ${LAMBDA_ENV_LIMIT_BYTES}` +
        (configPath ? ` (shorten long values in ${configPath}, such as COMMAND or MISSING_CONFIG_ERROR)` : ''),
      {code: 'LambdaEnvironmentTooLarge', exitCode: 2},
    )
  }
}
