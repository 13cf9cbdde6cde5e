/**
 * SigV4 as the core verifies it, with requests signed by the SDK's own signer and
 * sent byte for byte: tampering, presigned URLs, aws-chunked bodies, 100-continue,
 * unsigned requests, session tokens, routing and binding.
 */
import {connect} from 'node:net'
import {networkInterfaces} from 'node:os'
import {Crc32} from '@aws-crypto/crc32'
import {GetObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {getSignedUrl} from '@aws-sdk/s3-request-presigner'
import test from 'ava'
import {ACCOUNT_ID, type Identity, type SigningCredential} from '../../../src/emulator/types.js'
import {credentials, startTestServer} from './fixtures.js'
import {seedSignatureOf, send, sha256Hex, sign, signedChunkedBody} from './wire.js'

const server = await startTestServer()
test.after.always(() => server.close())
const {endpoint} = server
const s3 = new S3Client({endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1})

const stsBody = 'Action=GetCallerIdentity&Version=2011-06-15'
const form = {'content-type': 'application/x-www-form-urlencoded; charset=utf-8'}

test('a tampered query string, header or body is refused', async (t) => {
  const good = await sign(endpoint, 's3', {method: 'GET', path: '/b/obj?prefix=a', headers: {'x-amz-meta-color': 'blue'}})
  const ok = await send(endpoint, good)
  t.is(ok.status, 404) // signature fine; the key does not exist
  t.regex(ok.body, /<Code>NoSuchKey<\/Code>/)

  const query = await send(endpoint, {...good, path: '/b/obj?prefix=b'})
  t.is(query.status, 403)
  t.regex(query.body, /<Code>SignatureDoesNotMatch<\/Code>/)

  const header = await send(endpoint, {...good, headers: {...good.headers, 'x-amz-meta-color': 'red'}})
  t.is(header.status, 403)
  t.regex(header.body, /<Code>SignatureDoesNotMatch<\/Code>/)

  // S3: the signed hex payload hash no longer matches the bytes sent.
  const put = await sign(endpoint, 's3', {method: 'PUT', path: '/b/tampered', headers: {}, body: 'original'})
  const body = await send(endpoint, {...put, body: 'replaced'})
  t.is(body.status, 400)
  t.regex(body.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/)
  t.false(server.objects.has('/b/tampered'))

  // Query, signed the way botocore does (no x-amz-content-sha256: the body is hashed into the signature).
  const sts = await sign(endpoint, 'sts', {method: 'POST', path: '/', headers: form, body: stsBody}, {applyChecksum: false})
  t.false('x-amz-content-sha256' in sts.headers)
  t.is((await send(endpoint, sts)).status, 200)
  const forged = await send(endpoint, {...sts, body: stsBody.replace('GetCallerIdentity', 'GetCallerIdentitx')})
  t.is(forged.status, 403)
  t.regex(forged.body, /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>SignatureDoesNotMatch<\/Code>/)
})

test('S3 paths are verified as sent (no double encoding); other services normalised', async (t) => {
  const path = '/b/a%20b%2Bc%2Fd'
  const put = await sign(endpoint, 's3', {method: 'PUT', path, headers: {}, body: 'x'})
  t.is((await send(endpoint, put)).status, 200)
  t.true(server.objects.has('/b/a b+c/d'))
})

test('presigned URLs: accepted, expired refused, tampered refused', async (t) => {
  await s3.send(new PutObjectCommand({Bucket: 'b', Key: 'shared.txt', Body: 'shared'}))
  const url = await getSignedUrl(s3, new GetObjectCommand({Bucket: 'b', Key: 'shared.txt'}), {expiresIn: 300})
  t.true(url.startsWith(`${endpoint}/b/shared.txt?`))
  const ok = await fetch(url)
  t.is(ok.status, 200)
  t.is(await ok.text(), 'shared')

  const old = await getSignedUrl(s3, new GetObjectCommand({Bucket: 'b', Key: 'shared.txt'}), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 120_000),
  })
  const expired = await fetch(old)
  t.is(expired.status, 403)
  const expiredText = await expired.text()
  t.regex(expiredText, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/)

  const tampered = await fetch(url.replace('/b/shared.txt', '/b/other.txt'))
  t.is(tampered.status, 403)
  t.regex(await tampered.text(), /SignatureDoesNotMatch/)

  const putUrl = await getSignedUrl(s3, new PutObjectCommand({Bucket: 'b', Key: 'uploaded.txt'}), {expiresIn: 300})
  const put = await fetch(putUrl, {method: 'PUT', body: 'via presigned PUT'})
  t.is(put.status, 200)
  t.is(server.objects.get('/b/uploaded.txt')?.body.toString(), 'via presigned PUT')
})

async function chunkedPut(key: string, chunks: Buffer[], trailer?: Record<string, string>, corrupt?: (body: Buffer) => Buffer) {
  const signingDate = new Date()
  const decoded = chunks.reduce((n, c) => n + c.length, 0)
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'x-amz-decoded-content-length': String(decoded),
  }
  if (trailer) headers['x-amz-trailer'] = Object.keys(trailer).join(',')
  // The encoded length must be signed, so build the body once to learn it, then sign, then build it with the real seed.
  const probe = await signedChunkedBody(chunks, {seed: '0'.repeat(64), signingDate, trailer})
  headers['content-length'] = String(probe.length)
  const signed = await sign(endpoint, 's3', {method: 'PUT', path: `/b/${key}`, headers}, {signingDate})
  let body = await signedChunkedBody(chunks, {seed: seedSignatureOf(signed.headers), signingDate, trailer})
  if (corrupt) body = corrupt(body)
  return send(endpoint, {...signed, body})
}

test('aws-chunked with chunk signatures: verified, decoded; a corrupted chunk is refused', async (t) => {
  const chunks = [Buffer.alloc(65536, 'a'), Buffer.alloc(65536, 'b'), Buffer.from('tail')]
  const ok = await chunkedPut('signed-chunks', chunks)
  t.is(ok.status, 200, ok.body)
  t.deepEqual(server.objects.get('/b/signed-chunks')?.body, Buffer.concat(chunks))
  t.is(server.objects.get('/b/signed-chunks')?.contentLength, 65536 * 2 + 4)

  const bad = await chunkedPut('corrupted', chunks, undefined, (body) => {
    const copy = Buffer.from(body)
    copy[70_000] = 'z'.charCodeAt(0) // inside the second chunk's data
    return copy
  })
  t.is(bad.status, 403)
  t.regex(bad.body, /<Code>SignatureDoesNotMatch<\/Code>/)
  t.false(server.objects.has('/b/corrupted'))
})

test('aws-chunked signed with a signed trailer: trailer parsed and its signature checked', async (t) => {
  const data = Buffer.from('checksummed payload')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(new Crc32().update(data).digest())
  const trailer = {'x-amz-checksum-crc32': crc.toString('base64')}
  const ok = await chunkedPut('trailer', [data], trailer)
  t.is(ok.status, 200, ok.body)
  t.deepEqual(server.objects.get('/b/trailer')?.trailers, trailer)

  const forged = await chunkedPut('forged-trailer', [data], trailer, (body) =>
    Buffer.from(body.toString('latin1').replace(trailer['x-amz-checksum-crc32'], 'AAAAAA=='), 'latin1'),
  )
  t.is(forged.status, 403)
  t.false(server.objects.has('/b/forged-trailer'))
})

test('aws-chunked: a body cut short or longer than declared is IncompleteBody', async (t) => {
  const signingDate = new Date()
  const headers = {
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': '10',
    'transfer-encoding': 'chunked',
  }
  const signed = await sign(endpoint, 's3', {method: 'PUT', path: '/b/short', headers}, {signingDate})
  const short = await send(endpoint, {...signed, body: '5\r\nhello\r\n0\r\n\r\n'})
  t.is(short.status, 400)
  t.regex(short.body, /<Code>IncompleteBody<\/Code>/)
  const whole = await send(endpoint, {...signed, body: '5\r\nhello\r\n5\r\nworld\r\n0\r\n'})
  t.is(whole.status, 200)
  t.is(server.objects.get('/b/short')?.body.toString(), 'helloworld')
})

test('Expect: 100-continue — a bad signature is answered without the body being sent; a good one gets 100', async (t) => {
  const body = Buffer.alloc(1024 * 1024, 'q')
  const wrong = {accessKeyId: 'test', secretAccessKey: 'wrong'}
  const bad = await sign(endpoint, 's3', {method: 'PUT', path: '/b/expect', headers: {expect: '100-continue'}, body}, {credentials: wrong})
  const refused = await send(endpoint, bad)
  t.is(refused.status, 403)
  t.false(refused.continued)
  t.regex(refused.body, /SignatureDoesNotMatch/)
  t.false(server.objects.has('/b/expect'))

  const good = await sign(endpoint, 's3', {method: 'PUT', path: '/b/expect', headers: {expect: '100-continue'}, body})
  const accepted = await send(endpoint, good)
  t.true(accepted.continued)
  t.is(accepted.status, 200)
  t.is(server.objects.get('/b/expect')?.body.length, body.length)
})

test('unsigned requests are refused in the protocol they were aimed at', async (t) => {
  const s3Answer = await fetch(`${endpoint}/b/shared.txt`)
  t.is(s3Answer.status, 403)
  t.regex(await s3Answer.text(), /<Code>AccessDenied<\/Code>/)
  const json = await fetch(endpoint, {method: 'POST', headers: {'x-amz-target': 'secretsmanager.ListSecrets'}, body: '{}'})
  t.is(json.status, 403)
  t.is(((await json.json()) as {__type: string}).__type, 'MissingAuthenticationTokenException')
  const query = await fetch(endpoint, {method: 'POST', headers: form, body: stsBody})
  t.is(query.status, 403)
  t.regex(await query.text(), /<Code>MissingAuthenticationToken<\/Code>/)
})

test('a service the emulator does not serve is a clear 400 naming it', async (t) => {
  const signed = await sign(endpoint, 'frobnicate', {method: 'POST', path: '/', headers: {'x-amz-target': 'Frob.Do'}, body: '{}'})
  const answer = await send(endpoint, signed)
  t.is(answer.status, 400)
  const error = JSON.parse(answer.body) as {__type: string; message: string}
  t.is(error.__type, 'UnknownService')
  t.regex(error.message, /'frobnicate'/)
})

test('malformed Authorization headers are refused, not crashed on', async (t) => {
  const answer = await send(endpoint, {method: 'GET', path: '/b/x', headers: {authorization: 'AWS4-HMAC-SHA256 Credential=test/nonsense'}})
  t.is(answer.status, 400)
  t.regex(answer.body, /AuthorizationHeaderMalformed|IncompleteSignature/)
  const v2 = await send(endpoint, {method: 'GET', path: '/b/x', headers: {authorization: 'AWS test:abc'}})
  t.true(v2.status >= 400 && v2.status < 500)
})

test('the server listens on 127.0.0.1 only', async (t) => {
  t.true(endpoint.startsWith('http://127.0.0.1:'))
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)
  if (!external) {
    t.pass('no non-loopback IPv4 interface on this machine to try')
    return
  }
  const outcome = await new Promise<string>((resolve) => {
    const socket = connect({host: external.address, port: server.port})
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
  t.is(outcome, 'ECONNREFUSED')
})

test('temporary credentials need their session token (header or presigned query)', async (t) => {
  const root = {kind: 'root', accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:root`, userId: ACCOUNT_ID} as const
  const temporary: SigningCredential = {
    accessKeyId: 'ASIATEMPORARY0000001',
    secretAccessKey: 'temp-secret',
    sessionToken: 'the-session-token',
    principal: {
      kind: 'role',
      accountId: ACCOUNT_ID,
      arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/R/s`,
      userId: 'AROAEXAMPLE:s',
      accessKeyId: 'ASIATEMPORARY0000001',
    },
  }
  const identity: Identity = {
    resolve: (id) =>
      id === temporary.accessKeyId
        ? temporary
        : id === 'test'
          ? {accessKeyId: 'test', secretAccessKey: 'test', principal: {...root, accessKeyId: 'test'}}
          : undefined,
    authorize: (request) => (request.principal.kind === 'root' ? 'allow' : 'implicitDeny'),
  }
  const own = await startTestServer({identity})
  t.teardown(() => own.close())
  const {sessionToken, ...withoutToken} = temporary
  const withToken = await sign(
    own.endpoint,
    'sts',
    {method: 'POST', path: '/', headers: form, body: stsBody},
    {credentials: {...withoutToken, sessionToken}},
  )
  const ok = await send(own.endpoint, withToken)
  t.is(ok.status, 200)
  t.regex(ok.body, /assumed-role\/R\/s/)
  const noToken = await sign(own.endpoint, 'sts', {method: 'POST', path: '/', headers: form, body: stsBody}, {credentials: withoutToken})
  const refused = await send(own.endpoint, noToken)
  t.is(refused.status, 403)
  t.regex(refused.body, /<Code>InvalidClientTokenId<\/Code>/)
  const s3Refused = await send(
    own.endpoint,
    await sign(own.endpoint, 's3', {method: 'GET', path: '/b/x', headers: {}}, {credentials: withoutToken}),
  )
  t.is(s3Refused.status, 400)
  t.regex(s3Refused.body, /<Code>InvalidToken<\/Code>/)
})

test('a request body is hashed and checked even when the client streams it (S3 hex payload hash)', async (t) => {
  const body = Buffer.alloc(3 * 1024 * 1024, 'm')
  const signed = await sign(endpoint, 's3', {method: 'PUT', path: '/b/big', headers: {}, body})
  t.is(signed.headers['x-amz-content-sha256'], sha256Hex(body))
  t.is((await send(endpoint, signed)).status, 200)
  t.is(server.objects.get('/b/big')?.body.length, body.length)
})
