/**
 * EventBridge event patterns, validated and matched as AWS documents them:
 * exact values (strings, numbers compared numerically, null, booleans), arrays
 * as alternatives, nested objects, event arrays matching when any element does,
 * and the operators prefix, suffix (both with equals-ignore-case), anything-but
 * (values, lists, prefix, suffix, equals-ignore-case, wildcard), numeric ranges,
 * exists, equals-ignore-case, wildcard, cidr, and `$or`.
 */
import {BlockList, isIP} from 'node:net'
import {invalidPattern} from './errors.js'

export type EventMatcher = (event: unknown) => boolean
type ValueTest = (value: unknown) => boolean
/** A field test: given the field's value (undefined when absent). */
type FieldTest = (value: unknown) => boolean

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Parses and validates a pattern; throws InvalidEventPatternException naming what is wrong. */
export function compilePattern(text: unknown): EventMatcher {
  if (typeof text !== 'string') throw invalidPattern('The pattern must be a JSON string.')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw invalidPattern(`The pattern is not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(value)) throw invalidPattern('Filter is not an object')
  if (Object.keys(value).length === 0) throw invalidPattern('Empty objects are not allowed')
  const test = compileObject(value, '')
  return (event) => test(event)
}

function compileObject(pattern: Record<string, unknown>, path: string): FieldTest {
  const fields: [string, FieldTest][] = []
  let alternatives: FieldTest[] | undefined
  for (const [key, node] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key
    if (key === '$or') {
      if (!Array.isArray(node) || node.length < 2)
        throw invalidPattern(`$or at ${path || 'the top'} must be an array of at least two patterns`)
      alternatives = node.map((alt, i) => {
        if (!isObject(alt) || Object.keys(alt).length === 0)
          throw invalidPattern(`$or[${i}] at ${path || 'the top'} must be a non-empty object`)
        return compileObject(alt, path)
      })
      continue
    }
    if (Array.isArray(node)) fields.push([key, compileLeaf(node, here)])
    else if (isObject(node)) {
      if (Object.keys(node).length === 0) throw invalidPattern(`Empty objects are not allowed (at ${here})`)
      const inner = compileObject(node, here)
      fields.push([
        key,
        (value) => (Array.isArray(value) ? value.some((v) => isObject(v) && inner(v)) : inner(isObject(value) ? value : undefined)),
      ])
    } else throw invalidPattern(`Match value must be String, number, true, false, or null at ${here}`)
  }
  return (value) => {
    const object = isObject(value) ? value : {}
    if (!fields.every(([key, test]) => test(object[key]))) return false
    return !alternatives || alternatives.some((alt) => alt(object))
  }
}

/** A leaf: an array of alternatives. A field holding an array matches when any element matches any alternative. */
function compileLeaf(alternatives: unknown[], path: string): FieldTest {
  if (alternatives.length === 0) throw invalidPattern(`Empty arrays are not allowed (at ${path})`)
  const tests = alternatives.map((alt) => compileMatcher(alt, path))
  return (value) => {
    // Leaf patterns see leaf values: an absent field, or one holding an object, has none.
    const values = (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v) => !isObject(v))
    return tests.some((t) => (t.exists === undefined ? values.some(t.test) : t.exists === values.length > 0))
  }
}

interface Matcher {
  test: ValueTest
  /** For `exists`: whether the field must have a value (true) or none (false). */
  exists?: boolean
}

function compileMatcher(alt: unknown, path: string): Matcher {
  if (alt === null) return {test: (v) => v === null}
  if (typeof alt === 'string') return {test: (v) => v === alt}
  if (typeof alt === 'number') return {test: (v) => typeof v === 'number' && v === alt}
  if (typeof alt === 'boolean') return {test: (v) => v === alt}
  if (!isObject(alt)) throw invalidPattern(`Match value must be String, number, true, false, or null at ${path}`)
  const keys = Object.keys(alt)
  if (keys.length !== 1) throw invalidPattern(`An operator object at ${path} must have exactly one key; got ${keys.join(', ') || 'none'}`)
  const op = keys[0]!
  const arg = alt[op]
  switch (op) {
    case 'prefix':
    case 'suffix':
      return {test: affixTest(op, arg, path)}
    case 'equals-ignore-case': {
      if (typeof arg !== 'string') throw invalidPattern(`equals-ignore-case match pattern must be a string at ${path}`)
      const lower = arg.toLowerCase()
      return {test: (v) => typeof v === 'string' && v.toLowerCase() === lower}
    }
    case 'wildcard':
      return {test: wildcardTest(arg, path)}
    case 'exists':
      if (typeof arg !== 'boolean') throw invalidPattern(`exists match pattern must be either true or false at ${path}`)
      return {test: () => arg, exists: arg}
    case 'numeric':
      return {test: numericTest(arg, path)}
    case 'cidr':
      return {test: cidrTest(arg, path)}
    case 'anything-but':
      return {test: anythingButTest(arg, path)}
    default:
      throw invalidPattern(`Unrecognized match type ${op} at ${path}`)
  }
}

function affixTest(op: 'prefix' | 'suffix', arg: unknown, path: string): ValueTest {
  let text: string
  let ignoreCase = false
  if (typeof arg === 'string') text = arg
  else if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') {
    text = (arg['equals-ignore-case'] as string).toLowerCase()
    ignoreCase = true
  } else throw invalidPattern(`${op} match pattern must be a string at ${path}`)
  return (v) => {
    if (typeof v !== 'string') return false
    const s = ignoreCase ? v.toLowerCase() : v
    return op === 'prefix' ? s.startsWith(text) : s.endsWith(text)
  }
}

function wildcardTest(arg: unknown, path: string): ValueTest {
  if (typeof arg !== 'string') throw invalidPattern(`wildcard match pattern must be a string at ${path}`)
  if (/(?<!\\)\*\*/.test(arg)) throw invalidPattern(`Consecutive wildcard characters at ${path}`)
  let source = ''
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!
    if (c === '\\' && (arg[i + 1] === '*' || arg[i + 1] === '\\')) {
      source += `\\${arg[++i]}`
    } else if (c === '*') source += '.*'
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  const regex = new RegExp(`^${source}$`, 's')
  return (v) => typeof v === 'string' && regex.test(v)
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>=', '>'])

function numericTest(arg: unknown, path: string): ValueTest {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw invalidPattern(`numeric match pattern must be an array of one or two [operator, number] pairs at ${path}`)
  }
  const checks: ((v: number) => boolean)[] = []
  let lower = false
  let upper = false
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i]
    const bound = arg[i + 1]
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op))
      throw invalidPattern(`Unrecognized numeric range operator: ${String(op)} at ${path}`)
    if (typeof bound !== 'number') throw invalidPattern(`Value of ${op} must be numeric at ${path}`)
    if (op === '=' && arg.length > 2) throw invalidPattern(`= cannot be combined with another comparison at ${path}`)
    if (op.startsWith('>')) {
      if (lower) throw invalidPattern(`Bad numeric range: two lower bounds at ${path}`)
      lower = true
    }
    if (op.startsWith('<')) {
      if (upper) throw invalidPattern(`Bad numeric range: two upper bounds at ${path}`)
      upper = true
    }
    checks.push(
      op === '<'
        ? (v) => v < bound
        : op === '<='
          ? (v) => v <= bound
          : op === '='
            ? (v) => v === bound
            : op === '>='
              ? (v) => v >= bound
              : (v) => v > bound,
    )
  }
  return (v) => typeof v === 'number' && checks.every((check) => check(v))
}

function cidrTest(arg: unknown, path: string): ValueTest {
  const match = typeof arg === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(arg) : null
  const family = match ? isIP(match[1]!) : 0
  const bits = match ? Number(match[2]) : -1
  if (!match || family === 0 || bits > (family === 4 ? 32 : 128))
    throw invalidPattern(`Malformed CIDR, one '/' required at ${path}: ${String(arg)}`)
  const list = new BlockList()
  const type = family === 4 ? 'ipv4' : 'ipv6'
  list.addSubnet(match[1]!, bits, type)
  return (v) => typeof v === 'string' && isIP(v) !== 0 && list.check(v, isIP(v) === 4 ? 'ipv4' : 'ipv6')
}

function anythingButTest(arg: unknown, path: string): ValueTest {
  const here = `anything-but at ${path}`
  if (typeof arg === 'string' || typeof arg === 'number') return (v) => v !== arg
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw invalidPattern(`Empty arrays are not allowed (${here})`)
    if (arg.some((x) => typeof x !== 'string' && typeof x !== 'number'))
      throw invalidPattern(`Inside ${here} list, only strings and numbers are allowed`)
    return (v) => !arg.includes(v)
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op] = Object.keys(arg)
    const inner = arg[op!]
    if (op === 'prefix' || op === 'suffix') {
      const test = affixTest(op, inner, path)
      return (v) => typeof v === 'string' && !test(v)
    }
    if (op === 'wildcard') {
      const tests = (Array.isArray(inner) ? inner : [inner]).map((w) => wildcardTest(w, path))
      return (v) => typeof v === 'string' && !tests.some((t) => t(v))
    }
    if (op === 'equals-ignore-case') {
      const list = (Array.isArray(inner) ? inner : [inner]).map((x) => {
        if (typeof x !== 'string') throw invalidPattern(`Inside ${here}/equals-ignore-case, only strings are allowed`)
        return x.toLowerCase()
      })
      return (v) => typeof v === 'string' && !list.includes(v.toLowerCase())
    }
  }
  throw invalidPattern(`Inside ${here}, only a value, a list, prefix, suffix, wildcard or equals-ignore-case is allowed`)
}
