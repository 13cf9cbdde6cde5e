import {closest, distance} from 'fastest-levenshtein'
import type {Diagnostic} from '../../config/model.js'

export type Finding = Omit<Diagnostic, 'file' | 'severity'> & {severity?: Diagnostic['severity']}

/** Collects diagnostics for one template file. */
export class Findings {
  readonly list: Diagnostic[] = []
  constructor(readonly file: string) {}

  error(finding: Finding): void {
    this.list.push({severity: 'error', file: this.file, ...finding})
  }

  warning(finding: Finding): void {
    this.list.push({severity: 'warning', file: this.file, ...finding})
  }
}

/** The nearest candidate when it is close enough to be a likely typo (or differs only in case). */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates]
  if (list.length === 0) return undefined
  const lower = name.toLowerCase()
  const sameCase = list.find((candidate) => candidate.toLowerCase() === lower)
  if (sameCase !== undefined) return sameCase
  const best = closest(name, list)
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

export function withSuggestion(message: string, suggestion: string | undefined): {message: string; suggestion?: string} {
  return suggestion === undefined ? {message} : {message: `${message}; did you mean ${suggestion}?`, suggestion}
}
