/**
 * Wildcard and ARN matching as IAM does it: `*` matches any run of characters
 * (including none), `?` exactly one. Actions compare case-insensitively,
 * resources case-sensitively; in ARNs a wildcard in one of the first five
 * colon-separated fields never spills into the next one.
 */

/**
 * Policy variables can put a literal `*` or `?` into a pattern (`${*}`, or a
 * substituted value); those travel as these private-use characters so that
 * they never act as wildcards.
 */
export const LITERAL_STAR = '\uE000'
export const LITERAL_QUESTION = '\uE001'

function literal(text: string): string {
  return text.replaceAll(LITERAL_STAR, '*').replaceAll(LITERAL_QUESTION, '?')
}

const compiled = new Map<string, RegExp>()

function patternToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? 'i' : 's'}:${pattern}`
  const cached = compiled.get(cacheKey)
  if (cached) return cached
  let source = '^'
  for (const char of pattern) {
    if (char === '*') source += '[\\s\\S]*'
    else if (char === '?') source += '[\\s\\S]'
    else source += literal(char).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  source += '$'
  const regExp = new RegExp(source, ignoreCase ? 'iu' : 'u')
  if (compiled.size > 10_000) compiled.clear()
  compiled.set(cacheKey, regExp)
  return regExp
}

/** True when `value` matches `pattern` with `*` and `?` wildcards. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true
  if (!pattern.includes('*') && !pattern.includes('?')) {
    const plain = literal(pattern)
    return ignoreCase ? plain.toLowerCase() === value.toLowerCase() : plain === value
  }
  return patternToRegExp(pattern, ignoreCase).test(value)
}

/** `s3:Get*` against `s3:GetObject`: service and action names are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, true)
}

/** Splits an ARN into its five fixed fields and the resource (which may itself contain colons). */
export function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  return [...parts.slice(0, 5), parts.slice(5).join(':')]
}

/**
 * ArnLike-style matching: field by field, so `arn:aws:s3:::*` cannot match an
 * IAM ARN through a wildcard in the resource field. A pattern that is not an
 * ARN (only `*` in practice) is matched as a plain wildcard string.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true
  const patternParts = splitArn(pattern)
  const arnParts = splitArn(arn)
  if (!patternParts || !arnParts) return wildcardMatch(pattern, arn)
  for (let index = 0; index < 6; index++) {
    if (!wildcardMatch(patternParts[index]!, arnParts[index]!)) return false
  }
  return true
}

/** ArnEquals/ArnLike share the same matching in IAM (both honour wildcards). */
export const arnEquals = arnMatches
