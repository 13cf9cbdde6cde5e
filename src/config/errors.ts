import path from 'node:path'
import {UsageError} from '../errors.js'
import type {Diagnostic} from './model.js'

/**
 * A config that cannot be used: carries every error found (and the warnings found
 * beside them, for `validate`), exit code 2. The message is the errors, one per line.
 */
export class ConfigError extends UsageError {
  readonly diagnostics: Diagnostic[]
  readonly warnings: Diagnostic[]

  constructor(diagnostics: Diagnostic[], warnings: Diagnostic[] = []) {
    super(diagnostics.map(formatDiagnostic).join('\n'), {code: 'ConfigError'})
    this.name = 'ConfigError'
    this.diagnostics = diagnostics
    this.warnings = warnings
  }
}

/** One line: `file: $.json.path: message` (the file relative to the working folder when inside it). */
export function formatDiagnostic(d: Diagnostic): string {
  const relative = path.isAbsolute(d.file) ? path.relative(process.cwd(), d.file) : d.file
  const file = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : d.file
  const severity = d.severity === 'warning' ? 'warning: ' : ''
  return `${file}: ${d.path}: ${severity}${d.message}`
}

/** `$.UXData.Affiliates[1].UserNames[0]`; keys that are not identifiers in brackets. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '$'
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += `.${s}`
    else out += `[${JSON.stringify(s)}]`
  }
  return out
}

/** A found value as the user wrote it, shortened: `"your ami here"`, `8`, `an object`. */
export function preview(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : shorten(JSON.stringify(value), max)
  if (value !== null && typeof value === 'object') return 'an object'
  if (typeof value === 'string' && value.length > max) return `${JSON.stringify(value.slice(0, max - 3)).slice(0, -1)}…"`
  return shorten(JSON.stringify(value), max)
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** What kind of JSON value this is, for "expected a boolean, found a string (...)". */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  switch (typeof value) {
    case 'string':
      return 'a string'
    case 'number':
      return 'a number'
    case 'boolean':
      return 'a boolean'
    case 'object':
      return 'an object'
    default:
      return typeof value
  }
}

/** Collects diagnostics about one file. */
export class Findings {
  readonly errors: Diagnostic[] = []
  readonly warnings: Diagnostic[] = []

  constructor(readonly file: string) {}

  error(at: readonly (string | number)[], rule: string, message: string, extra: Partial<Diagnostic> = {}): void {
    this.errors.push({severity: 'error', file: this.file, path: jsonPath(at), message, rule, ...extra})
  }

  warn(at: readonly (string | number)[], rule: string, message: string, extra: Partial<Diagnostic> = {}): void {
    this.warnings.push({severity: 'warning', file: this.file, path: jsonPath(at), message, rule, ...extra})
  }

  /** An error of the form "expected X, found Y". */
  mismatch(at: readonly (string | number)[], rule: string, expected: string, value: unknown, why?: string, showType = false): void {
    const found = showType ? `${describeType(value)} (${preview(value)})` : preview(value)
    const tail = why ? `: ${why}` : ''
    this.error(at, rule, `expected ${expected}, found ${found}${tail}`, {expected, found})
  }
}
