/**
 * REST-XML (S3): answers are XML documents in S3's namespace; inputs that are
 * documents (DeleteObjects, CompleteMultipartUpload, tagging, …) are parsed
 * with fast-xml-parser, loaded on first use so server start-up stays light.
 * Values stay strings (keys such as "007" must not become numbers) and
 * whitespace inside values is kept (object keys may begin or end with spaces).
 */
import type {OutgoingHttpHeaders} from 'node:http'
import {AwsError} from '../errors.js'
import type {RequestContext} from '../types.js'
import {readBody} from './body.js'
import {sendBody} from './respond.js'
import {xmlDocument} from './xml.js'

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/**
 * An S3 document: `xml('ListAllMyBucketsResult', {Owner: {...}, Buckets: {Bucket: [...]}})`.
 * Arrays repeat their element (S3's flattened lists: `Contents: [...]` writes `<Contents>` per entry);
 * keys starting with '@_' are attributes. Pass `xmlns: null` for a document without a namespace.
 */
export function xml(root: string, content: Record<string, unknown>, xmlns: string | null = S3_XMLNS): string {
  return xmlDocument(root, content, xmlns ?? undefined, {list: 'repeat'})
}

/** Sends an S3 XML document. */
export function sendXml(
  ctx: Pick<RequestContext, 'res'>,
  root: string,
  content: Record<string, unknown>,
  options: {status?: number; headers?: OutgoingHttpHeaders; xmlns?: string | null} = {},
): void {
  sendBody(ctx.res, options.status ?? 200, 'application/xml', xml(root, content, options.xmlns), options.headers)
}

export type XmlNode = Record<string, unknown>

type Parser = {parse(xml: string, validate: boolean): unknown}
const parsers = new Map<string, Parser>()

async function parserFor(arrays: readonly string[]): Promise<Parser> {
  const key = arrays.join(',')
  let parser = parsers.get(key)
  if (!parser) {
    const {XMLParser} = await import('fast-xml-parser')
    const listNames = new Set(arrays)
    parser = new XMLParser({
      ignoreAttributes: true,
      removeNSPrefix: true,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      isArray: (name) => listNames.has(name),
    }) as Parser
    parsers.set(key, parser)
  }
  return parser
}

/** Drops the whitespace between elements that an untrimmed parse keeps as '#text'. */
function dropLayout(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropLayout)
  if (node && typeof node === 'object') {
    const record = node as XmlNode
    for (const key of Object.keys(record)) {
      const value = record[key]
      if (key === '#text' && typeof value === 'string' && value.trim() === '') delete record[key]
      else record[key] = dropLayout(value)
    }
  }
  return node
}

export function malformedXml(detail?: string): AwsError {
  return new AwsError(
    'MalformedXML',
    `The XML you provided was not well-formed or did not validate against our published schema${detail ? ` (${detail})` : ''}.`,
  )
}

/** Parses an XML text; returns the document element's content, and its name. */
export async function parseXml(text: string, options: {arrays?: readonly string[]} = {}): Promise<{root: string; content: XmlNode}> {
  const parser = await parserFor(options.arrays ?? [])
  let document: XmlNode
  try {
    document = parser.parse(text, true) as XmlNode
  } catch (error) {
    throw malformedXml((error as Error).message)
  }
  const root = Object.keys(document).find((name) => name !== '?xml')
  if (!root) throw malformedXml('no document element')
  const content = dropLayout(document[root])
  return {root, content: content && typeof content === 'object' ? (content as XmlNode) : {'#text': content ?? ''}}
}

/**
 * Reads and parses the request's XML body. `arrays` names the elements that are lists
 * even when they occur once (for DeleteObjects: ['Object']). `expectRoot` refuses other documents.
 */
export async function parseXmlBody(
  ctx: Pick<RequestContext, 'body'>,
  options: {arrays?: readonly string[]; expectRoot?: string; limit?: number} = {},
): Promise<XmlNode> {
  const text = (await readBody(ctx.body, options.limit)).toString('utf8')
  if (text.trim() === '') throw malformedXml('the body is empty')
  const {root, content} = await parseXml(text, options)
  if (options.expectRoot && root !== options.expectRoot) throw malformedXml(`expected <${options.expectRoot}>, found <${root}>`)
  return content
}

/** A child element as text ('' when absent), for reading parsed documents without casts. */
export function textOf(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined
  const value = (node as XmlNode)[name]
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && '#text' in value) return String((value as XmlNode)['#text'])
  return ''
}

/** A child element as a list (repeated elements, or one element, or none). */
export function listOf(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return []
  const value = (node as XmlNode)[name]
  if (value === undefined) return []
  const items = Array.isArray(value) ? value : [value]
  return items.map((item) => (item && typeof item === 'object' ? (item as XmlNode) : {'#text': item ?? ''}))
}
