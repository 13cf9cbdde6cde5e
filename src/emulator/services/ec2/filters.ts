/** EC2's describe filters: Name and Values, values with * and ? wildcards, tag:K, tag-key and tag-value. */
import {invalidFilter} from './errors.js'

export interface Filter {
  name: string
  values: string[]
}

export type FieldValue = string | number | boolean | undefined | null | readonly (string | undefined)[]
export type Fields<T> = Record<string, (item: T) => FieldValue>

const patterns = new Map<string, RegExp>()

function patternOf(value: string): RegExp {
  let pattern = patterns.get(value)
  if (!pattern) {
    // EC2 wildcards: * any run, ? one character; a backslash escapes them.
    let source = ''
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!
      if (c === '\\' && i + 1 < value.length) source += value[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      else if (c === '*') source += '.*'
      else if (c === '?') source += '.'
      else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    }
    pattern = new RegExp(`^${source}$`, 's')
    if (patterns.size > 1000) patterns.clear()
    patterns.set(value, pattern)
  }
  return pattern
}

const asStrings = (value: FieldValue): string[] => {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value.filter((v): v is string => v !== undefined)
  return [String(value)]
}

const anyMatches = (candidates: readonly string[], values: readonly string[]) =>
  candidates.some((candidate) => values.some((value) => patternOf(value).test(candidate)))

/** Keeps the items every filter matches (values of one filter are ORed, filters ANDed); an unknown filter name is refused. */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[],
  fields: Fields<T>,
  tagsOf?: (item: T) => Record<string, string>,
): T[] {
  if (filters.length === 0) return [...items]
  for (const filter of filters) {
    const tagFilter = tagsOf && (filter.name.startsWith('tag:') || filter.name === 'tag-key' || filter.name === 'tag-value')
    if (!tagFilter && !fields[filter.name]) throw invalidFilter(filter.name)
  }
  return items.filter((item) =>
    filters.every((filter) => {
      if (tagsOf && filter.name.startsWith('tag:')) {
        const value = tagsOf(item)[filter.name.slice(4)]
        return value !== undefined && anyMatches([value], filter.values)
      }
      if (tagsOf && filter.name === 'tag-key') return anyMatches(Object.keys(tagsOf(item)), filter.values)
      if (tagsOf && filter.name === 'tag-value') return anyMatches(Object.values(tagsOf(item)), filter.values)
      return anyMatches(asStrings(fields[filter.name]!(item)), filter.values)
    }),
  )
}
