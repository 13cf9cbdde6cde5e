/**
 * The benchmark's limit: a bare object store in a few dozen lines of node:http.
 * PUT keeps the body durably (temp + fsync + rename, the emulator's own atomic
 * write), GET streams it back; no auth, no XML, no metadata. What the emulator
 * costs beyond this is what SigV4, XML, IAM and its index cost. It answers any client
 * (the SDK's S3 requests included) since it reads nothing but the method and path.
 * Run: node --import=tsx bench/bare-store.ts --dir DIR [--port 0]  (prints "listening PORT")
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {createServer} from 'node:http'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {writeStreamAtomic} from '../src/store/atomic.js'

const {values} = parseArgs({options: {dir: {type: 'string'}, port: {type: 'string', default: '0'}}})
if (!values.dir) throw new Error('bare-store: --dir is required')
const dir = values.dir
await mkdir(dir, {recursive: true})

// A hash of the path names the file, so no key can reach outside the folder. The query is
// not part of the name: the SDK adds ?x-id=PutObject / ?x-id=GetObject, presigned URLs their X-Amz-*.
const fileFor = (url: string) => {
  const path = url.split('?')[0] as string
  return join(dir, createHash('sha256').update(path).digest('hex'))
}

const server = createServer((req, res) => {
  const file = fileFor(req.url ?? '/')
  if (req.method === 'PUT') {
    writeStreamAtomic(file, req).then(
      () => res.writeHead(200, {'content-length': 0}).end(),
      (error: Error) => res.writeHead(500).end(error.message),
    )
    return
  }
  if (req.method === 'GET') {
    const stream = createReadStream(file)
    stream.once('error', () => res.writeHead(404, {'content-length': 0}).end())
    stream.once('open', () => {
      res.writeHead(200)
      stream.pipe(res)
    })
    return
  }
  res.writeHead(405, {'content-length': 0}).end()
})
server.keepAliveTimeout = 60_000
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`)
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
