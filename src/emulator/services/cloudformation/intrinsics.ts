/**
 * Intrinsic functions, conditions and pseudo parameters, evaluated against a
 * stack's parameters and the resources provisioned so far: Ref, Fn::GetAtt,
 * Fn::Sub (both forms), Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals,
 * Fn::And, Fn::Or, Fn::Not, Fn::FindInMap, Fn::GetAZs, Fn::Base64, Fn::Cidr,
 * Fn::ImportValue, Condition and AWS::NoValue.
 */
import type {Template} from './template.js'
import {validationError} from './template.js'

/** What AWS::NoValue turns into: the property (or list item) is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue')

export interface EvalContext {
  template: Template
  /** Parameter values: strings, or string lists for List<…> and CommaDelimitedList. */
  parameters: Record<string, string | string[]>
  pseudo: Record<string, string | string[]>
  region: string
  /** The value of Ref to a resource (its physical id or what the type returns), once it exists. */
  ref(logicalId: string): string
  getAtt(logicalId: string, attribute: string): unknown
  importValue(name: string): string
  /** Memo of evaluated conditions. */
  conditionCache?: Map<string, boolean>
}

const fail = (message: string) => validationError(`Template error: ${message}`)

const asString = (value: unknown, where: string): string => {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw fail(`${where} needs a string, got ${JSON.stringify(value)}`)
}

export function evaluateCondition(ctx: EvalContext, name: string): boolean {
  ctx.conditionCache ??= new Map()
  const cached = ctx.conditionCache.get(name)
  if (cached !== undefined) return cached
  const body = ctx.template.Conditions?.[name]
  if (body === undefined) throw fail(`unresolved condition dependency ${name}`)
  const value = evaluate(ctx, body)
  if (typeof value !== 'boolean') throw fail(`condition ${name} does not evaluate to a boolean`)
  ctx.conditionCache.set(name, value)
  return value
}

const asBool = (ctx: EvalContext, value: unknown, fn: string): boolean => {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'Condition' in value && Object.keys(value).length === 1) {
    return evaluateCondition(ctx, String((value as {Condition: unknown}).Condition))
  }
  const result = evaluate(ctx, value)
  if (typeof result === 'boolean') return result
  if (result === 'true') return true
  if (result === 'false') return false
  throw fail(`${fn} needs conditions, got ${JSON.stringify(result)}`)
}

function cidr(block: string, count: number, bits: number): string[] {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(block)
  if (!match) throw fail(`Fn::Cidr: '${block}' is not an IPv4 CIDR block`)
  const base = match.slice(1, 5).reduce((acc, octet) => acc * 256 + Number(octet), 0)
  const prefix = Number(match[5])
  const size = 32 - bits
  if (bits < 1 || size < prefix) throw fail(`Fn::Cidr: ${bits} subnet bits do not fit in ${block}`)
  if (count < 1 || count > 256 || count > 2 ** (size - prefix)) throw fail(`Fn::Cidr: ${count} subnets do not fit in ${block}`)
  const out: string[] = []
  const start = Math.floor(base / 2 ** (32 - prefix)) * 2 ** (32 - prefix)
  for (let i = 0; i < count; i++) {
    const address = start + i * 2 ** bits
    out.push(`${[24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.')}/${size}`)
  }
  return out
}

export function substitute(ctx: EvalContext, text: string, vars: Record<string, unknown>): string {
  return text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
    const name = inner.trim()
    if (name.startsWith('!')) return `\${${name.slice(1)}}`
    if (name in vars) return asString(vars[name], `Fn::Sub variable ${name}`)
    if (ctx.pseudo[name] !== undefined || name in (ctx.template.Parameters ?? {})) {
      const value = ref(ctx, name)
      return Array.isArray(value) ? value.join(',') : asString(value, `Fn::Sub ${name}`)
    }
    const dot = name.indexOf('.')
    if (dot > 0 && ctx.template.Resources[name.slice(0, dot)]) {
      return asString(ctx.getAtt(name.slice(0, dot), name.slice(dot + 1)), `Fn::Sub ${name}`)
    }
    if (ctx.template.Resources[name]) return ctx.ref(name)
    throw fail(`Fn::Sub refers to ${whole}, which is not a parameter, resource or attribute of this template`)
  })
}

function ref(ctx: EvalContext, name: string): string | string[] | typeof NO_VALUE {
  if (name === 'AWS::NoValue') return NO_VALUE
  const pseudo = ctx.pseudo[name]
  if (pseudo !== undefined) return pseudo
  const parameter = ctx.parameters[name]
  if (parameter !== undefined) return parameter
  if (ctx.template.Resources[name]) return ctx.ref(name)
  throw fail(`Unresolved resource dependencies [${name}] in the Resources block of the template`)
}

/** Evaluates every intrinsic in a value; AWS::NoValue removes the member it is in. */
export function evaluate(ctx: EvalContext, value: unknown): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const item of value) {
      const result = evaluate(ctx, item)
      if (result !== NO_VALUE) out.push(result)
    }
    return out
  }
  if (!value || typeof value !== 'object') return value
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length === 1) {
    const key = keys[0]!
    const arg = record[key]
    switch (key) {
      case 'Ref':
        return ref(ctx, asString(arg, 'Ref'))
      case 'Fn::GetAtt': {
        const parts = Array.isArray(arg) ? arg.map((part) => evaluate(ctx, part)) : asString(arg, 'Fn::GetAtt').split('.')
        const [target, ...rest] = parts as string[]
        if (!target || rest.length === 0) throw fail('Fn::GetAtt needs [LogicalId, Attribute]')
        return ctx.getAtt(target, rest.join('.'))
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return substitute(ctx, arg, {})
        if (Array.isArray(arg) && typeof arg[0] === 'string') {
          const vars: Record<string, unknown> = {}
          for (const [name, expr] of Object.entries((arg[1] ?? {}) as Record<string, unknown>)) vars[name] = evaluate(ctx, expr)
          return substitute(ctx, arg[0], vars)
        }
        throw fail('Fn::Sub needs a string or [string, {variables}]')
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2) throw fail('Fn::Join needs [delimiter, [values]]')
        const items = evaluate(ctx, arg[1])
        if (!Array.isArray(items)) throw fail('Fn::Join needs a list of values')
        return items.map((item) => asString(item, 'Fn::Join')).join(asString(arg[0], 'Fn::Join delimiter'))
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) throw fail('Fn::Select needs [index, [values]]')
        const index = Number(evaluate(ctx, arg[0]))
        const items = evaluate(ctx, arg[1])
        if (!Array.isArray(items)) throw fail('Fn::Select needs a list of values')
        if (!Number.isInteger(index) || index < 0 || index >= items.length)
          throw fail(`Fn::Select cannot select nonexistent value at index ${index}`)
        return items[index]
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2) throw fail('Fn::Split needs [delimiter, string]')
        return asString(evaluate(ctx, arg[1]), 'Fn::Split').split(asString(arg[0], 'Fn::Split delimiter'))
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3) throw fail('Fn::If needs [condition, value if true, value if false]')
        return evaluate(ctx, evaluateCondition(ctx, asString(arg[0], 'Fn::If')) ? arg[1] : arg[2])
      }
      case 'Fn::Equals': {
        if (!Array.isArray(arg) || arg.length !== 2) throw fail('Fn::Equals needs two values')
        const [a, b] = arg.map((item) => evaluate(ctx, item))
        return JSON.stringify(typeof a === 'number' ? String(a) : a) === JSON.stringify(typeof b === 'number' ? String(b) : b)
      }
      case 'Fn::And':
      case 'Fn::Or': {
        if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10) throw fail(`${key} needs 2 to 10 conditions`)
        const values = arg.map((item) => asBool(ctx, item, key))
        return key === 'Fn::And' ? values.every(Boolean) : values.some(Boolean)
      }
      case 'Fn::Not': {
        if (!Array.isArray(arg) || arg.length !== 1) throw fail('Fn::Not needs one condition')
        return !asBool(ctx, arg[0], key)
      }
      case 'Condition':
        if (typeof arg === 'string') return evaluateCondition(ctx, arg)
        break
      case 'Fn::FindInMap': {
        if (!Array.isArray(arg) || arg.length < 3) throw fail('Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]')
        const [mapName, top, second] = arg.slice(0, 3).map((item) => asString(evaluate(ctx, item), 'Fn::FindInMap'))
        const found = ctx.template.Mappings?.[mapName!]?.[top!]?.[second!]
        if (found === undefined) {
          const fallback = (arg[3] as {DefaultValue?: unknown} | undefined)?.DefaultValue
          if (fallback !== undefined) return evaluate(ctx, fallback)
          throw fail(`Unable to get mapping for ${mapName}::${top}::${second}`)
        }
        return found
      }
      case 'Fn::GetAZs': {
        const region = asString(evaluate(ctx, arg), 'Fn::GetAZs') || ctx.region
        return ['a', 'b', 'c', 'd', 'e', 'f'].map((suffix) => `${region}${suffix}`)
      }
      case 'Fn::Base64':
        return Buffer.from(asString(evaluate(ctx, arg), 'Fn::Base64'), 'utf8').toString('base64')
      case 'Fn::Cidr': {
        if (!Array.isArray(arg) || arg.length !== 3) throw fail('Fn::Cidr needs [ipBlock, count, cidrBits]')
        const [block, count, bits] = arg.map((item) => evaluate(ctx, item))
        return cidr(asString(block, 'Fn::Cidr'), Number(count), Number(bits))
      }
      case 'Fn::ImportValue':
        return ctx.importValue(asString(evaluate(ctx, arg), 'Fn::ImportValue'))
      case 'Fn::Transform':
        throw fail('Fn::Transform (macros) is not supported by the ncap emulator')
      default:
        if (key.startsWith('Fn::')) throw fail(`Encountered unsupported function: ${key}`)
    }
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const result = evaluate(ctx, record[key])
    if (result !== NO_VALUE) out[key] = result
  }
  return out
}

/** Whether a resource or output is in the stack: no Condition, or one that holds. */
export function included(ctx: EvalContext, condition: string | undefined): boolean {
  return condition === undefined || evaluateCondition(ctx, condition)
}
