/**
 * CloudWatch Logs filter patterns, as FilterLogEvents applies them:
 *   ERROR Exception        every term (case-sensitive, anywhere in the message)
 *   "Out of memory"        a quoted phrase is one term
 *   ?ERROR ?WARN           at least one of the `?` terms
 *   ERROR -DEBUG           `-` excludes a term
 *   %ERR[0-9]+%            a regular expression
 *   { $.level = "error" && $.ms > 100 }   JSON messages: = != < > <= >= on a path, && ||, ( ),
 *                          strings with * wildcards, numbers, IS NULL, NOT EXISTS, IS TRUE/FALSE
 * Space-delimited patterns ([ip, user, ...]) are refused by name.
 */
import {invalidParameter} from './errors.js'

export type MessageFilter = (message: string) => boolean

export function compileFilter(pattern: string | undefined): MessageFilter {
  const text = (pattern ?? '').trim()
  if (text === '' || text === '""') return () => true
  if (text.startsWith('{')) return compileJson(text)
  if (text.startsWith('[')) {
    throw invalidParameter(
      'Space-delimited filter patterns ([field, ...]) are not served by the ncap emulator; use terms or a JSON pattern.',
    )
  }
  return compileTerms(text)
}

function compileTerms(text: string): MessageFilter {
  const required: MessageFilter[] = []
  const optional: MessageFilter[] = []
  const excluded: MessageFilter[] = []
  const tokens = text.match(/[?-]?"(?:[^"\\]|\\.)*"|%(?:[^%\\]|\\.)*%|\S+/g) ?? []
  for (const token of tokens) {
    let body = token
    let bucket = required
    if (body.startsWith('?')) {
      bucket = optional
      body = body.slice(1)
    } else if (body.startsWith('-') && body.length > 1) {
      bucket = excluded
      body = body.slice(1)
    }
    if (body.startsWith('%') && body.endsWith('%') && body.length > 1) {
      let regex: RegExp
      try {
        regex = new RegExp(body.slice(1, -1))
      } catch (error) {
        throw invalidParameter(`Invalid filter pattern regular expression ${body}: ${(error as Error).message}`)
      }
      bucket.push((message) => regex.test(message))
      continue
    }
    const term = body.startsWith('"') && body.endsWith('"') && body.length > 1 ? body.slice(1, -1).replace(/\\(.)/g, '$1') : body
    if (term === '') continue
    bucket.push((message) => message.includes(term))
  }
  return (message) =>
    required.every((f) => f(message)) && (optional.length === 0 || optional.some((f) => f(message))) && !excluded.some((f) => f(message))
}

// JSON patterns: a small recursive-descent parser over `{ expr }`.
type Node = (value: unknown) => boolean

function compileJson(text: string): MessageFilter {
  if (!text.endsWith('}')) throw invalidParameter(`Invalid filter pattern: ${text} (a JSON pattern must end with }).`)
  const parser = new JsonPatternParser(text.slice(1, -1), text)
  const node = parser.parse()
  return (message) => {
    const start = message.indexOf('{')
    if (start === -1) return false
    let doc: unknown
    try {
      doc = JSON.parse(message.slice(start))
    } catch {
      return false
    }
    return node(doc)
  }
}

class JsonPatternParser {
  private pos = 0
  constructor(
    private readonly src: string,
    private readonly whole: string,
  ) {}

  parse(): Node {
    const node = this.or()
    this.space()
    if (this.pos < this.src.length) this.fail(`unexpected "${this.src.slice(this.pos)}"`)
    return node
  }

  private fail(why: string): never {
    throw invalidParameter(`Invalid filter pattern ${this.whole}: ${why}.`)
  }

  private space(): void {
    while (/\s/.test(this.src[this.pos] ?? '')) this.pos++
  }

  private eat(token: string): boolean {
    this.space()
    if (this.src.startsWith(token, this.pos)) {
      this.pos += token.length
      return true
    }
    return false
  }

  private or(): Node {
    const parts = [this.and()]
    while (this.eat('||')) parts.push(this.and())
    return parts.length === 1 ? parts[0]! : (v) => parts.some((p) => p(v))
  }

  private and(): Node {
    const parts = [this.primary()]
    while (this.eat('&&')) parts.push(this.primary())
    return parts.length === 1 ? parts[0]! : (v) => parts.every((p) => p(v))
  }

  private primary(): Node {
    if (this.eat('(')) {
      const inner = this.or()
      if (!this.eat(')')) this.fail('missing )')
      return inner
    }
    this.space()
    const path = /^\$(?:\.[A-Za-z0-9_@-]+|\[\d+\]|\.\*|\[\*\])*/.exec(this.src.slice(this.pos))?.[0]
    if (!path || path === '$') this.fail('expected a selector such as $.field')
    this.pos += path.length
    const get = (doc: unknown) => select(doc, path)
    this.space()
    const rest = this.src.slice(this.pos)
    const keyword = /^(IS\s+NULL|NOT\s+EXISTS|IS\s+TRUE|IS\s+FALSE)\b/i.exec(rest)
    if (keyword) {
      this.pos += keyword[0].length
      const word = keyword[1]!.toUpperCase().replace(/\s+/g, ' ')
      if (word === 'IS NULL') return (doc) => get(doc).some((v) => v === null)
      if (word === 'NOT EXISTS') return (doc) => get(doc).length === 0
      if (word === 'IS TRUE') return (doc) => get(doc).some((v) => v === true)
      return (doc) => get(doc).some((v) => v === false)
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(rest)?.[1]
    if (!op) this.fail(`expected an operator after ${path}`)
    this.pos += op.length
    this.space()
    const value = this.value()
    if (typeof value === 'number') {
      const test = numericTest(op, value)
      return (doc) => {
        const values = get(doc).filter((v): v is number => typeof v === 'number')
        return op === '!=' ? values.length > 0 && values.every(test) : values.some(test)
      }
    }
    if (op !== '=' && op !== '!=') this.fail(`${op} compares numbers only`)
    const matches = stringTest(value)
    return (doc) => {
      const values = get(doc).filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      return op === '=' ? values.some((v) => matches(String(v))) : values.length > 0 && values.every((v) => !matches(String(v)))
    }
  }

  private value(): string | number {
    const rest = this.src.slice(this.pos)
    const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest)
    if (quoted) {
      this.pos += quoted[0].length
      return quoted[1]!.replace(/\\(.)/g, '$1')
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?(?![^\s)&|])/.exec(rest)
    if (number) {
      this.pos += number[0].length
      return Number(number[0])
    }
    const bare = /^[^\s)&|]+/.exec(rest)
    if (!bare) this.fail('expected a value')
    this.pos += bare[0].length
    return bare[0]
  }
}

function numericTest(op: string, value: number): (v: number) => boolean {
  switch (op) {
    case '=':
      return (v) => v === value
    case '!=':
      return (v) => v !== value
    case '<':
      return (v) => v < value
    case '>':
      return (v) => v > value
    case '<=':
      return (v) => v <= value
    default:
      return (v) => v >= value
  }
}

function stringTest(value: string): (v: string) => boolean {
  if (!value.includes('*')) return (v) => v === value
  const regex = new RegExp(
    `^${value
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  )
  return (v) => regex.test(v)
}

/** The values a selector reaches ($.a.b, $.list[0], $.list[*], $.*). */
function select(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc]
  for (const step of path.slice(1).match(/\.[A-Za-z0-9_@-]+|\[\d+\]|\.\*|\[\*\]/g) ?? []) {
    const next: unknown[] = []
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue
      if (step === '.*' || step === '[*]') next.push(...Object.values(value as object))
      else if (step.startsWith('[')) {
        if (Array.isArray(value)) {
          const item = value[Number(step.slice(1, -1))]
          if (item !== undefined) next.push(item)
        }
      } else {
        const item = (value as Record<string, unknown>)[step.slice(1)]
        if (item !== undefined) next.push(item)
      }
    }
    current = next
  }
  // An array at the end stands for its elements (as `$.tags = "x"` matches any element).
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]))
}
