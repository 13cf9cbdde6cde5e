/**
 * Template parameters: the values given (or kept with UsePreviousValue, or the
 * defaults) checked against each parameter's type and constraints with
 * CloudFormation's messages; SSM parameter types resolved from the emulated
 * SSM; NoEcho values masked wherever they are shown.
 */

import type {Template} from './template.js'
import {validationError} from './template.js'

export interface GivenParameter {
  ParameterKey: string
  ParameterValue?: string
  UsePreviousValue?: boolean
}

export interface StackParameter {
  key: string
  /** The value as given (for SSM types: the parameter's name). */
  value: string
  /** For SSM parameter types: the value read from SSM. */
  resolved?: string
  noEcho: boolean
}

export const MASK = '****'

const isList = (type: string) => type.startsWith('List<') || type === 'CommaDelimitedList'
const isSsm = (type: string) => type.startsWith('AWS::SSM::Parameter::Value<')
const isTrue = (value: unknown) => value === true || String(value).toLowerCase() === 'true'

const EC2_ID_PATTERNS: Record<string, RegExp> = {
  'AWS::EC2::VPC::Id': /^vpc-[0-9a-f]+$/,
  'AWS::EC2::Subnet::Id': /^subnet-[0-9a-f]+$/,
  'AWS::EC2::SecurityGroup::Id': /^sg-[0-9a-f]+$/,
  'AWS::EC2::Image::Id': /^ami-[0-9a-f]+$/,
  'AWS::EC2::Instance::Id': /^i-[0-9a-f]+$/,
  'AWS::EC2::Volume::Id': /^vol-[0-9a-f]+$/,
}

const KNOWN_TYPES =
  /^(String|Number|List<Number>|CommaDelimitedList|AWS::EC2::[A-Za-z]+::(Id|Name|KeyName)|AWS::Route53::HostedZone::Id|List<AWS::EC2::[A-Za-z]+::(Id|Name|KeyName)>|AWS::SSM::Parameter::Name|AWS::SSM::Parameter::Value<.+>)$/

function checkOne(
  key: string,
  spec: Template['Parameters'] extends infer P ? (P extends Record<string, infer S> ? S : never) : never,
  value: string,
): void {
  const violated = (fallback: string) =>
    validationError(
      spec.ConstraintDescription ? `Parameter '${key}' failed to satisfy constraint: ${spec.ConstraintDescription}` : fallback,
    )
  const type = spec.Type
  const items = isList(type) ? (value === '' ? [] : value.split(',').map((s) => s.trim())) : [value]
  for (const item of items) {
    if (type === 'Number' || type === 'List<Number>') {
      if (item === '' || !Number.isFinite(Number(item))) throw validationError(`Parameter '${key}' must be a number`)
      if (spec.MinValue !== undefined && Number(item) < Number(spec.MinValue)) {
        throw violated(`Parameter '${key}' must be a number not less than ${spec.MinValue}`)
      }
      if (spec.MaxValue !== undefined && Number(item) > Number(spec.MaxValue)) {
        throw violated(`Parameter '${key}' must be a number not greater than ${spec.MaxValue}`)
      }
    }
    const ec2 = EC2_ID_PATTERNS[type.replace(/^List<(.*)>$/, '$1')]
    if (ec2 && !ec2.test(item))
      throw validationError(`Parameter '${key}' must be a valid ${type.replace(/^List<(.*)>$/, '$1')}; got '${item}'`)
    if (spec.AllowedValues && !spec.AllowedValues.map(String).includes(item))
      throw violated(`Parameter '${key}' must be one of AllowedValues`)
    if (spec.AllowedPattern !== undefined && !new RegExp(`^(?:${spec.AllowedPattern})$`).test(item)) {
      throw violated(`Parameter '${key}' must match pattern ${spec.AllowedPattern}`)
    }
  }
  if (type === 'String' || type === 'CommaDelimitedList') {
    if (spec.MinLength !== undefined && value.length < Number(spec.MinLength)) {
      throw violated(`Parameter '${key}' must contain at least ${spec.MinLength} characters`)
    }
    if (spec.MaxLength !== undefined && value.length > Number(spec.MaxLength)) {
      throw violated(`Parameter '${key}' must contain at most ${spec.MaxLength} characters`)
    }
  }
}

/**
 * The stack's parameters from those given: unknown keys and missing values
 * refused, every value checked. `previous` backs UsePreviousValue.
 */
export function resolveParameters(template: Template, given: GivenParameter[], previous: StackParameter[] = []): StackParameter[] {
  const specs = template.Parameters ?? {}
  const unknown = given.map((g) => g.ParameterKey).filter((key) => !(key in specs))
  if (unknown.length > 0) throw validationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`)
  const out: StackParameter[] = []
  const missing: string[] = []
  for (const [key, spec] of Object.entries(specs)) {
    if (!KNOWN_TYPES.test(spec.Type)) throw validationError(`Template format error: Unrecognized parameter type: ${spec.Type}`)
    const entry = given.find((g) => g.ParameterKey === key)
    let value: string | undefined
    if (entry?.UsePreviousValue) {
      value = previous.find((p) => p.key === key)?.value
      if (value === undefined)
        throw validationError(
          `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
        )
    } else if (entry?.ParameterValue !== undefined) value = entry.ParameterValue
    else if (spec.Default !== undefined) value = Array.isArray(spec.Default) ? spec.Default.join(',') : String(spec.Default)
    if (value === undefined) {
      missing.push(key)
      continue
    }
    if (!isSsm(spec.Type)) checkOne(key, spec, value)
    out.push({key, value, noEcho: isTrue(spec.NoEcho)})
  }
  if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`)
  return out
}

/** The parameter values intrinsics see: lists split, SSM types replaced by their resolved value. */
export function parameterValues(template: Template, parameters: StackParameter[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const parameter of parameters) {
    const type = template.Parameters?.[parameter.key]?.Type ?? 'String'
    const value = parameter.resolved ?? parameter.value
    out[parameter.key] = isList(type) || (isSsm(type) && type.includes('List<')) ? (value === '' ? [] : value.split(',')) : value
  }
  return out
}

export const ssmParameterType = (type: string) => isSsm(type)

/** The parameters as DescribeStacks shows them: NoEcho values masked. */
export function shownParameters(parameters: StackParameter[]): Record<string, string>[] {
  return parameters.map((p) => ({
    ParameterKey: p.key,
    ParameterValue: p.noEcho ? MASK : p.value,
    ...(p.resolved !== undefined && !p.noEcho ? {ResolvedValue: p.resolved} : {}),
  }))
}
