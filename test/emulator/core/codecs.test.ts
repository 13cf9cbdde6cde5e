/** The protocol codecs and the aws-chunked decoder on their own. */
import {PassThrough, Readable} from 'node:stream'
import test from 'ava'
import fc from 'fast-check'
import {AwsChunkedDecoder} from '../../../src/emulator/auth/chunked.js'
import {decodeQuery} from '../../../src/emulator/auth/sigv4.js'
import {AwsError} from '../../../src/emulator/errors.js'
import {parseQuery, queryList, queryMap, queryStructs} from '../../../src/emulator/protocols/query.js'
import {restRouter} from '../../../src/emulator/protocols/restjson.js'
import {listOf, parseXml, textOf, xml} from '../../../src/emulator/protocols/restxml.js'
import {escapeXml, xmlDocument} from '../../../src/emulator/protocols/xml.js'

test('Query lists, structure lists and maps are read by index order, gaps allowed', (t) => {
  const params = {
    'PolicyArns.member.2': 'arn:b',
    'PolicyArns.member.1': 'arn:a',
    'PolicyArns.member.10': 'arn:j',
    'Tags.member.1.Key': 'team',
    'Tags.member.1.Value': 'lab',
    'Tags.member.2.Key': 'env',
    'Filter.1.Name': 'tag:team',
    'Filter.1.Value.1': 'x',
    'Filter.1.Value.2': 'y',
    'Attributes.entry.1.key': 'Policy',
    'Attributes.entry.1.value': '{}',
    'PolicyArns.memberX': 'ignored',
  }
  t.deepEqual(queryList(params, 'PolicyArns.member'), ['arn:a', 'arn:b', 'arn:j'])
  t.deepEqual(
    queryStructs(params, 'Tags.member').map((s) => ({...s})),
    [{Key: 'team', Value: 'lab'}, {Key: 'env'}],
  )
  const [filter] = queryStructs(params, 'Filter')
  t.is(filter?.Name, 'tag:team')
  t.deepEqual(queryList(filter!, 'Value'), ['x', 'y'])
  t.deepEqual({...queryMap(params, 'Attributes')}, {Policy: '{}'})
  t.deepEqual(queryList(params, 'Nothing'), [])
})

test('parseQuery merges the query string and a form body, and requires Action', async (t) => {
  const body = new PassThrough()
  body.end('Action=CreateUser&UserName=al%20ice&Tags.member.1.Key=a+b')
  const req = {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded; charset=utf-8'}}
  const parsed = await parseQuery({req: req as never, url: new URL('http://h/?Version=2010-05-08'), body})
  t.is(parsed.action, 'CreateUser')
  t.is(parsed.version, '2010-05-08')
  t.is(parsed.params.UserName, 'al ice')
  t.is(parsed.params['Tags.member.1.Key'], 'a b')
  const empty = new PassThrough()
  empty.end('')
  const error = await t.throwsAsync(parseQuery({req: {method: 'GET', headers: {}} as never, url: new URL('http://h/'), body: empty}))
  t.true(error instanceof AwsError)
  t.is((error as AwsError).code, 'MissingAction')
})

test('the XML writer escapes text, repeats S3 lists, wraps Query lists, writes attributes and dates', (t) => {
  t.is(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;')
  const s3 = xml('ListBucketResult', {Name: 'b', Contents: [{Key: 'x<y'}, {Key: 'z'}], IsTruncated: false})
  t.is(
    s3,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Contents><Key>x&lt;y</Key></Contents><Contents><Key>z</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>',
  )
  const query = xmlDocument(
    'R',
    {Users: [{UserName: 'a', CreateDate: new Date(0)}], Grantee: {'@_type': 'CanonicalUser', ID: '1'}},
    undefined,
    {
      list: 'member',
    },
  )
  t.true(query.includes('<Users><member><UserName>a</UserName><CreateDate>1970-01-01T00:00:00.000Z</CreateDate></member></Users>'))
  t.true(query.includes('<Grantee type="CanonicalUser"><ID>1</ID></Grantee>'))
  t.true(xmlDocument('R', {Items: []}, undefined, {list: 'item'}).includes('<Items></Items>'))
})

test('parseXml keeps values as strings with their spaces, lists as asked, and refuses bad XML as MalformedXML', async (t) => {
  const {root, content} = await parseXml(
    '<?xml version="1.0"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n <Object><Key> 007 </Key></Object>\n <Quiet>true</Quiet>\n</Delete>',
    {arrays: ['Object']},
  )
  t.is(root, 'Delete')
  t.is(textOf(content, 'Quiet'), 'true')
  t.deepEqual(
    listOf(content, 'Object').map((o) => textOf(o, 'Key')),
    [' 007 '],
  )
  const error = await t.throwsAsync(parseXml('<a><b></a>'))
  t.is((error as AwsError).code, 'MalformedXML')
})

test('restRouter matches templates, greedy labels and optional trailing slashes, decoding labels', (t) => {
  const route = restRouter([
    {method: 'GET', path: '/2015-03-31/functions/', operation: 'ListFunctions'},
    {method: 'POST', path: '/2015-03-31/functions/{FunctionName}/invocations', operation: 'Invoke'},
    {method: 'GET', path: '/files/{Key+}', operation: 'GetFile'},
  ])
  t.is(route('GET', '/2015-03-31/functions')?.operation, 'ListFunctions')
  t.is(route('GET', '/2015-03-31/functions/')?.operation, 'ListFunctions')
  t.deepEqual(route('POST', '/2015-03-31/functions/my%3Afn/invocations'), {operation: 'Invoke', labels: {FunctionName: 'my:fn'}})
  t.deepEqual(route('GET', '/files/a/b%20c'), {operation: 'GetFile', labels: {Key: 'a/b c'}})
  t.is(route('DELETE', '/2015-03-31/functions'), undefined)
})

test('decodeQuery keeps repeated names, empty values and literal plus signs for the signer', (t) => {
  t.deepEqual({...decodeQuery('uploads&a=1&a=2&b=x+y&c=%2B%20')}, {uploads: '', a: ['1', '2'], b: 'x+y', c: '+ '})
})

function encodeChunked(data: Buffer, sizes: number[], trailer?: string): Buffer {
  const out: Buffer[] = []
  let offset = 0
  for (const size of sizes) {
    if (offset >= data.length) break
    const piece = data.subarray(offset, offset + size)
    offset += piece.length
    out.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
  }
  if (offset < data.length) {
    const rest = data.subarray(offset)
    out.push(Buffer.from(`${rest.length.toString(16)}\r\n`), rest, Buffer.from('\r\n'))
  }
  out.push(Buffer.from(trailer === undefined ? '0\r\n' : `0\r\n${trailer}\r\n\r\n`))
  return Buffer.concat(out)
}

async function decode(encoded: Buffer, cuts: number[], decodedLength?: number) {
  const trailers: Record<string, string> = {}
  const pieces: Buffer[] = []
  let last = 0
  for (const cut of [...new Set(cuts.map((c) => c % (encoded.length + 1)))].sort((a, b) => a - b)) {
    pieces.push(encoded.subarray(last, cut))
    last = cut
  }
  pieces.push(encoded.subarray(last))
  const decoder = new AwsChunkedDecoder({trailers, decodedLength})
  const out: Buffer[] = []
  for await (const chunk of Readable.from(pieces.filter((p) => p.length > 0)).pipe(decoder)) out.push(chunk as Buffer)
  return {data: Buffer.concat(out), trailers}
}

test('aws-chunked decoding gives back the payload whatever the chunk sizes and however the bytes arrive', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({maxLength: 3000}),
      fc.array(fc.integer({min: 1, max: 700}), {maxLength: 8}),
      fc.array(fc.nat(), {maxLength: 12}),
      fc.boolean(),
      async (bytes, sizes, cuts, withTrailer) => {
        const data = Buffer.from(bytes)
        const encoded = encodeChunked(data, sizes, withTrailer ? 'x-amz-checksum-crc32:AAAAAA==' : undefined)
        const result = await decode(encoded, cuts, data.length)
        t.deepEqual(result.data, data)
        if (withTrailer) t.is(result.trailers['x-amz-checksum-crc32'], 'AAAAAA==')
      },
    ),
    {numRuns: 150},
  )
})

test('aws-chunked decoding refuses bad framing, truncation and length mismatches', async (t) => {
  const good = encodeChunked(Buffer.from('hello world'), [5])
  await t.notThrowsAsync(decode(good, []))
  const codes = async (encoded: Buffer, length?: number) => ((await t.throwsAsync(decode(encoded, [3], length))) as AwsError).code
  t.is(await codes(good.subarray(0, 10)), 'IncompleteBody')
  t.is(await codes(good, 12), 'IncompleteBody')
  t.is(await codes(Buffer.from('zz\r\nhello\r\n0\r\n')), 'InvalidRequest')
  t.is(await codes(Buffer.from('5\r\nhelloXX0\r\n')), 'InvalidRequest')
})
