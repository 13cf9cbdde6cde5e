import {createRequire} from 'node:module'

/** Loaded on first use: a config with no misspelt key (the common case) never pays for it. */
let levenshtein: typeof import('fastest-levenshtein') | undefined
function distance(a: string, b: string): number {
  levenshtein ??= createRequire(import.meta.url)('fastest-levenshtein') as typeof import('fastest-levenshtein')
  return levenshtein.distance(a, b)
}

/**
 * The known key a misspelt key most likely meant, or undefined when none is near.
 * Case is ignored (IAM-style "pipelinename" means PipelineName); "near" allows one
 * edit for short keys and two for keys of eight characters or more.
 */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase()
  const budget = lower.length >= 8 ? 2 : 1
  let best: {name: string; d: number} | undefined
  for (const name of known) {
    const d = distance(lower, name.toLowerCase())
    if (d <= budget && (best === undefined || d < best.d)) best = {name, d}
  }
  return best?.name
}
