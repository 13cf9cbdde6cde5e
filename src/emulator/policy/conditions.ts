/**
 * IAM Condition blocks: `{Operator: {key: value | [values]}}`. Operators AND
 * together, keys within an operator AND together, values of one key OR
 * together. Keys are case-insensitive; `ForAnyValue:`/`ForAllValues:` set
 * prefixes and the `IfExists` suffix are honoured, and negated operators
 * (StringNotEquals, ArnNotLike, …) hold when the key is absent, as on AWS.
 */
import {arnMatches, LITERAL_QUESTION, LITERAL_STAR, wildcardMatch} from './match.js'

/** Request context values by lower-cased key. */
export type RequestValues = ReadonlyMap<string, readonly string[]>

type ValueTest = (requestValue: string, policyValue: string) => boolean

interface BaseOperator {
  test: ValueTest
  negated: boolean
  /** Policy variables are expanded in the values of string and ARN operators only. */
  variables: boolean
}

const parseNumber = (text: string): number | undefined => {
  if (text.trim() === '') return undefined
  const value = Number(text)
  return Number.isFinite(value) ? value : undefined
}

const numeric =
  (compare: (left: number, right: number) => boolean): ValueTest =>
  (requestValue, policyValue) => {
    const left = parseNumber(requestValue)
    const right = parseNumber(policyValue)
    return left !== undefined && right !== undefined && compare(left, right)
  }

/** Dates are ISO 8601 or epoch seconds in IAM. */
const parseDate = (text: string): number | undefined => {
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const value = Date.parse(text)
  return Number.isNaN(value) ? undefined : value
}

const date =
  (compare: (left: number, right: number) => boolean): ValueTest =>
  (requestValue, policyValue) => {
    const left = parseDate(requestValue)
    const right = parseDate(policyValue)
    return left !== undefined && right !== undefined && compare(left, right)
  }

function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined
    value = value * 256 + Number(part)
  }
  return value
}

/** IPv4 CIDR matching (the emulator only listens on IPv4 loopback). */
const ipInRange: ValueTest = (requestValue, policyValue) => {
  const [network = '', bitsText = '32'] = policyValue.split('/')
  const address = ipv4ToNumber(requestValue)
  const base = ipv4ToNumber(network)
  const bits = Number(bitsText)
  if (address === undefined || base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false
  const size = 2 ** (32 - bits)
  return Math.floor(address / size) === Math.floor(base / size)
}

const equals: ValueTest = (requestValue, policyValue) =>
  requestValue === policyValue.replaceAll(LITERAL_STAR, '*').replaceAll(LITERAL_QUESTION, '?')
const equalsIgnoreCase: ValueTest = (requestValue, policyValue) => equals(requestValue.toLowerCase(), policyValue.toLowerCase())
const like: ValueTest = (requestValue, policyValue) => wildcardMatch(policyValue, requestValue)
const arn: ValueTest = (requestValue, policyValue) => arnMatches(policyValue, requestValue)
const bool: ValueTest = (requestValue, policyValue) => requestValue.toLowerCase() === policyValue.toLowerCase()

const op = (test: ValueTest, negated = false, variables = false): BaseOperator => ({test, negated, variables})

export const OPERATORS: Record<string, BaseOperator> = {
  StringEquals: op(equals, false, true),
  StringNotEquals: op(equals, true, true),
  StringEqualsIgnoreCase: op(equalsIgnoreCase, false, true),
  StringNotEqualsIgnoreCase: op(equalsIgnoreCase, true, true),
  StringLike: op(like, false, true),
  StringNotLike: op(like, true, true),
  NumericEquals: op(numeric((a, b) => a === b)),
  NumericNotEquals: op(
    numeric((a, b) => a === b),
    true,
  ),
  NumericLessThan: op(numeric((a, b) => a < b)),
  NumericLessThanEquals: op(numeric((a, b) => a <= b)),
  NumericGreaterThan: op(numeric((a, b) => a > b)),
  NumericGreaterThanEquals: op(numeric((a, b) => a >= b)),
  DateEquals: op(date((a, b) => a === b)),
  DateNotEquals: op(
    date((a, b) => a === b),
    true,
  ),
  DateLessThan: op(date((a, b) => a < b)),
  DateLessThanEquals: op(date((a, b) => a <= b)),
  DateGreaterThan: op(date((a, b) => a > b)),
  DateGreaterThanEquals: op(date((a, b) => a >= b)),
  Bool: op(bool),
  BinaryEquals: op(equals),
  IpAddress: op(ipInRange),
  NotIpAddress: op(ipInRange, true),
  ArnEquals: op(arn, false, true),
  ArnLike: op(arn, false, true),
  ArnNotEquals: op(arn, true, true),
  ArnNotLike: op(arn, true, true),
}

export interface ParsedOperator {
  name: string
  set?: 'ForAnyValue' | 'ForAllValues'
  ifExists: boolean
  base?: BaseOperator
  isNull: boolean
}

/** Splits `ForAllValues:StringLikeIfExists` into its parts; `base` is undefined for an unknown operator. */
export function parseOperator(name: string): ParsedOperator {
  let rest = name
  let set: ParsedOperator['set']
  const colon = rest.indexOf(':')
  if (colon >= 0) {
    const prefix = rest.slice(0, colon)
    if (prefix.toLowerCase() === 'foranyvalue') set = 'ForAnyValue'
    else if (prefix.toLowerCase() === 'forallvalues') set = 'ForAllValues'
    else return {name, ifExists: false, isNull: false}
    rest = rest.slice(colon + 1)
  }
  if (rest === 'Null') return {name, set, ifExists: false, isNull: set === undefined}
  const ifExists = rest.endsWith('IfExists')
  if (ifExists) rest = rest.slice(0, -'IfExists'.length)
  return {name, set, ifExists, base: OPERATORS[rest], isNull: false}
}

export function policyValues(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value]
  return list.map((item) => String(item))
}

/**
 * Expands `${aws:username}`-style variables (with `${key, 'default'}`, and the
 * escapes `${*}`, `${?}`, `${$}`). Substituted text and escapes are literal,
 * never wildcards. Undefined when a variable has no value and no default: the
 * element then matches nothing, as on AWS.
 */
export function substituteVariables(text: string, values: RequestValues): string | undefined {
  if (!text.includes('${')) return text
  let missing = false
  const result = text.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) => {
    const trimmed = inner.trim()
    if (trimmed === '*') return LITERAL_STAR
    if (trimmed === '?') return LITERAL_QUESTION
    if (trimmed === '$') return '$'
    const match = /^([^,]+?)\s*(?:,\s*'([^']*)')?$/.exec(trimmed)
    const key = match?.[1]?.toLowerCase() ?? trimmed.toLowerCase()
    const found = values.get(key)
    const value = found && found.length === 1 ? found[0] : match?.[2]
    if (value === undefined) {
      missing = true
      return ''
    }
    return value.replaceAll('*', LITERAL_STAR).replaceAll('?', LITERAL_QUESTION)
  })
  return missing ? undefined : result
}

function keyMatches(
  operator: ParsedOperator,
  requestValues: readonly string[] | undefined,
  rawPolicyValues: string[],
  expand: boolean,
  values: RequestValues,
): boolean {
  if (operator.isNull) {
    const absent = requestValues === undefined || requestValues.length === 0
    return rawPolicyValues.some((value) => (value.toLowerCase() === 'true') === absent)
  }
  const base = operator.base
  if (!base) return false
  const present = requestValues !== undefined && requestValues.length > 0
  if (!present) {
    if (operator.ifExists) return true
    if (operator.set === 'ForAllValues') return true
    if (operator.set === 'ForAnyValue') return false
    return base.negated
  }
  const candidates: string[] = []
  for (const raw of rawPolicyValues) {
    const value = expand && base.variables ? substituteVariables(raw, values) : raw
    if (value !== undefined) candidates.push(value)
  }
  const matchesAny = (requestValue: string) => candidates.some((policyValue) => base.test(requestValue, policyValue))
  const holds = (requestValue: string) => (base.negated ? !matchesAny(requestValue) : matchesAny(requestValue))
  if (operator.set === 'ForAllValues') return requestValues.every(holds)
  if (operator.set === 'ForAnyValue') return requestValues.some(holds)
  // A single-valued operator: negated ones hold only when no request value matches.
  return base.negated ? !requestValues.some(matchesAny) : requestValues.some(matchesAny)
}

/** True when every operator and key of a statement's Condition holds for the request. */
export function conditionMatches(
  condition: Record<string, Record<string, unknown>>,
  values: RequestValues,
  expandVariables: boolean,
): boolean {
  for (const [operatorName, keys] of Object.entries(condition)) {
    const operator = parseOperator(operatorName)
    for (const [key, policyValue] of Object.entries(keys)) {
      if (!keyMatches(operator, values.get(key.toLowerCase()), policyValues(policyValue), expandVariables, values)) return false
    }
  }
  return true
}
