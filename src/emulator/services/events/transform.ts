/**
 * What a target receives: the whole event, or the target's Input (constant
 * JSON), InputPath (a JSONPath into the event) or InputTransformer (paths into
 * the event placed in a template), as EventBridge documents them.
 */
import {validation} from './errors.js'

export interface InputTransformer {
  InputPathsMap?: Record<string, string>
  InputTemplate: string
}

export interface TargetInput {
  Id: string
  Input?: string
  InputPath?: string
  InputTransformer?: InputTransformer
}

export interface RuleRef {
  name: string
  arn: string
}

const PATH = /^\$((\.[A-Za-z0-9_@$-]+)|(\[\d+\])|(\['[^']*'\]))*$/

/** Checks a target's input settings as PutTargets does. */
export function validateTargetInput(target: TargetInput): void {
  const given = [target.Input, target.InputPath, target.InputTransformer].filter((x) => x !== undefined).length
  if (given > 1) throw validation(`Target ${target.Id}: only one of Input, InputPath or InputTransformer may be set.`)
  if (target.Input !== undefined) {
    try {
      JSON.parse(target.Input)
    } catch {
      throw validation(`Target ${target.Id}: Input is not valid JSON text.`)
    }
  }
  if (target.InputPath !== undefined && !PATH.test(target.InputPath))
    throw validation(`Target ${target.Id}: InputPath ${target.InputPath} is not a valid JSONPath.`)
  if (target.InputTransformer) {
    const {InputPathsMap = {}, InputTemplate} = target.InputTransformer
    if (typeof InputTemplate !== 'string') throw validation(`Target ${target.Id}: InputTransformer needs an InputTemplate.`)
    if (Object.keys(InputPathsMap).length > 100) throw validation(`Target ${target.Id}: InputPathsMap has more than 100 entries.`)
    for (const [key, path] of Object.entries(InputPathsMap)) {
      if (key.startsWith('aws.')) throw validation(`Target ${target.Id}: InputPathsMap key ${key} uses the reserved prefix aws.`)
      if (!PATH.test(path)) throw validation(`Target ${target.Id}: InputPathsMap value ${path} for ${key} is not a valid JSONPath.`)
    }
  }
}

/** The values a simple JSONPath selects ($, $.a.b, $.list[0], $['key']). */
export function selectPath(doc: unknown, path: string): unknown {
  let current: unknown = doc
  for (const step of path.slice(1).match(/\.[A-Za-z0-9_@$-]+|\[\d+\]|\['[^']*'\]/g) ?? []) {
    if (current === null || typeof current !== 'object') return undefined
    const key = step.startsWith('.') ? step.slice(1) : step.startsWith("['") ? step.slice(2, -2) : Number(step.slice(1, -1))
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}

/** The payload a target gets for this event. */
export function targetPayload(target: TargetInput, event: Record<string, unknown>, rule: RuleRef, ingestedAt: string): unknown {
  if (target.Input !== undefined) return JSON.parse(target.Input)
  if (target.InputPath !== undefined) return selectPath(event, target.InputPath) ?? null
  if (!target.InputTransformer) return event
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    'aws.events.event.ingestion-time': ingestedAt,
    'aws.events.event': event,
    'aws.events.event.json': event,
  }
  for (const [key, path] of Object.entries(target.InputTransformer.InputPathsMap ?? {})) values[key] = selectPath(event, path)
  const text = fillTemplate(target.InputTransformer.InputTemplate, values)
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Replaces <name> placeholders: inside a JSON string a value goes in as text (strings unquoted),
 * outside one as JSON. A placeholder whose path matched nothing becomes null (or empty text).
 */
function fillTemplate(template: string, values: Record<string, unknown>): string {
  let out = ''
  let inString = false
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if (c === '\\' && inString) {
      out += c + (template[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') {
      inString = !inString
      out += c
      continue
    }
    if (c === '<') {
      const close = template.indexOf('>', i)
      const name = close === -1 ? '' : template.slice(i + 1, close)
      if (name && Object.hasOwn(values, name)) {
        const value = values[name]
        if (inString) {
          const raw = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value)
          out += JSON.stringify(raw).slice(1, -1)
        } else out += value === undefined ? 'null' : JSON.stringify(value)
        i = close
        continue
      }
    }
    out += c
  }
  return out
}
