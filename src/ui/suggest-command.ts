import {createRequire} from 'node:module'

/**
 * The command a mistyped one most likely meant: the closest by edit distance,
 * also among commands of the same topic (`emulator strat` → `emulator start`),
 * if it is near enough to be a typo (two edits, or a third of its length when longer).
 */
export function closestCommand(typed: string, ids: readonly string[]): string | undefined {
  const {distance} = createRequire(import.meta.url)('fastest-levenshtein') as typeof import('fastest-levenshtein')
  const lower = typed.toLowerCase()
  let best: {id: string; d: number} | undefined
  for (const id of ids) {
    const d = distance(lower, id.toLowerCase())
    if (best === undefined || d < best.d) best = {id, d}
  }
  if (!best) return undefined
  return best.d <= Math.max(2, Math.floor(typed.length / 3)) && best.d < typed.length ? best.id : undefined
}
