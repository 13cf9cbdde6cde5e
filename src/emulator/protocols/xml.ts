/**
 * A small XML writer shared by the REST-XML, Query and EC2-Query codecs.
 * Values map to elements generically: objects nest, arrays become lists
 * (S3 repeats the element; Query wraps items in <member>; EC2 in <item>),
 * Dates become ISO-8601, and keys starting with '@_' become attributes.
 * Written by hand rather than with a builder so small answers cost little.
 */

/** How arrays are written: S3 repeats the element itself; Query and EC2 wrap each entry. */
export type ListStyle = 'repeat' | 'member' | 'item'

export interface XmlOptions {
  list?: ListStyle
  /** Elements written without escaping (for example pre-rendered fragments); rarely needed. */
  raw?: ReadonlySet<string>
}

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;'}
const NEEDS_ESCAPE = /[&<>"'\r]/
const ESCAPE_ALL = /[&<>"'\r]/g

export function escapeXml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c]!) : text
}

/** A scalar as AWS writes it on the wire. */
export function xmlScalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'string') return escapeXml(value)
  return escapeXml(String(value))
}

function attributesOf(value: Record<string, unknown>): string {
  let out = ''
  for (const key in value) {
    if (key.startsWith('@_') && value[key] !== undefined) out += ` ${key.slice(2)}="${xmlScalar(value[key])}"`
  }
  return out
}

/** Writes `value` as the content of an element named `name` (appended to `out`). */
export function writeElement(name: string, value: unknown, options: XmlOptions = {}, out: string[] = []): string[] {
  if (value === undefined || value === null) return out
  if (Array.isArray(value)) {
    const style = options.list ?? 'repeat'
    if (style === 'repeat') {
      for (const item of value) writeElement(name, item, options, out)
    } else {
      out.push(`<${name}>`)
      for (const item of value) writeElement(style, item, options, out)
      out.push(`</${name}>`)
    }
    return out
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    const record = value as Record<string, unknown>
    out.push(`<${name}${attributesOf(record)}>`)
    writeChildren(record, options, out)
    out.push(`</${name}>`)
    return out
  }
  if (options.raw?.has(name)) out.push(`<${name}>${String(value)}</${name}>`)
  else out.push(`<${name}>${xmlScalar(value)}</${name}>`)
  return out
}

/** Writes each member of `record` as an element, in insertion order. `#text` is written as text. */
export function writeChildren(record: Record<string, unknown>, options: XmlOptions = {}, out: string[] = []): string[] {
  for (const key in record) {
    if (key.startsWith('@_')) continue
    if (key === '#text') {
      if (record[key] !== undefined) out.push(xmlScalar(record[key]))
      continue
    }
    writeElement(key, record[key], options, out)
  }
  return out
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** A whole document: `<root xmlns="…">children</root>`, with the XML declaration. */
export function xmlDocument(root: string, content: Record<string, unknown>, xmlns?: string, options: XmlOptions = {}): string {
  const out = [XML_DECLARATION, xmlns ? `<${root} xmlns="${xmlns}"${attributesOf(content)}>` : `<${root}${attributesOf(content)}>`]
  writeChildren(content, options, out)
  out.push(`</${root}>`)
  return out.join('')
}
