/** Handler bundles: one CommonJS index.js in a deterministic zip, the AWS SDK left to the runtime. */
import {cp, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import yauzl from 'yauzl'
import {bundleHandler, zipFiles} from '../../src/deploy/bundle.js'
import {repoRoot} from '../helpers/cli.js'

const handlers = ['submit_start', 'monitor', 'folders'].map((h) => join(repoRoot, 'lambda_repo', h))

function entries(zip: Buffer): Promise<{name: string; mode: number; time: Date; size: number}[]> {
  return new Promise((done, fail) => {
    yauzl.fromBuffer(zip, {lazyEntries: true}, (error, file) => {
      if (error || !file) return fail(error)
      const out: {name: string; mode: number; time: Date; size: number}[] = []
      file.on('entry', (e: yauzl.Entry) => {
        out.push({name: e.fileName, mode: (e.externalFileAttributes >>> 16) & 0o777, time: e.getLastModDate(), size: e.uncompressedSize})
        file.readEntry()
      })
      file.on('end', () => done(out))
      file.on('error', fail)
      file.readEntry()
    })
  })
}

test('each handler bundles to a zip holding only index.js, the same bytes every time and from another folder', async (t) => {
  for (const dir of handlers) {
    const a = await bundleHandler(dir)
    const b = await bundleHandler(dir)
    t.true(a.zip.equals(b.zip), `${dir}: same source, same bytes`)
    t.is(a.sha256, b.sha256)
    const list = await entries(a.zip)
    t.deepEqual(
      list.map((e) => e.name),
      ['index.js'],
    )
    t.is(list[0]!.mode, 0o644)
    t.is(list[0]!.time.getFullYear(), 1980)
  }
  // A copy of the source tree elsewhere (in an ESM package, as ncap is) bundles to the same bytes: no paths leak in.
  const copy = await mkdtemp(join(tmpdir(), 'ncap-bundle-'))
  await cp(join(repoRoot, 'lambda_repo'), join(copy, 'lambda_repo'), {recursive: true})
  await writeFile(join(copy, 'package.json'), '{"type": "module"}\n')
  const here = await bundleHandler(join(repoRoot, 'lambda_repo', 'folders'))
  const there = await bundleHandler(join(copy, 'lambda_repo', 'folders'))
  t.is(here.sha256, there.sha256)
})

test('the AWS SDK is left to the runtime and required (CommonJS finds the runtime copy); zod and yaml are bundled; small', async (t) => {
  const submit = await bundleHandler(handlers[0]!)
  t.regex(submit.code, /require\("@aws-sdk\/client-s3"\)/)
  t.false(/import\("@aws-sdk/.test(submit.code), 'no ESM import() of the SDK')
  t.false(
    submit.inputs.some((i) => i.includes('@aws-sdk')),
    'no SDK source bundled',
  )
  t.true(submit.inputs.some((i) => i.includes('node_modules/zod')))
  t.true(submit.inputs.some((i) => i.includes('node_modules/yaml')))
  t.true(submit.zip.length < 120_000, `submit zip is ${submit.zip.length} bytes`)
  const folders = await bundleHandler(handlers[2]!)
  t.true(folders.zip.length < 10_000, `folders zip is ${folders.zip.length} bytes`)
})

test('a bundle loads as CommonJS and exports handler (the SDK found as the Lambda runtime provides it)', async (t) => {
  // The handlers load their SDK clients at init; the runtime provides the SDK, here the repository's node_modules above the folder.
  const cache = join(repoRoot, 'node_modules', '.cache')
  await mkdir(cache, {recursive: true})
  const dir = await mkdtemp(join(cache, 'ncap-bundle-load-'))
  t.teardown(() => rm(dir, {recursive: true, force: true}))
  for (const h of handlers) {
    const {code} = await bundleHandler(h)
    const file = join(dir, `${h.split('/').pop()}.cjs`)
    await writeFile(file, code)
    const mod = createRequire(file)(file) as {handler?: unknown}
    t.is(typeof mod.handler, 'function', h)
  }
})

test('a folder without index.ts/js, or with code that does not compile, is refused naming it', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'ncap-bundle-empty-'))
  await t.throwsAsync(bundleHandler(empty), {message: /has no index\.ts or index\.js exporting handler/})
  await writeFile(join(empty, 'index.ts'), 'export const handler = async () => { return 1 +; }\n')
  await t.throwsAsync(bundleHandler(empty), {message: /could not bundle .*index\.ts:1/})
})

test('zipFiles orders entries by name whatever the input order', async (t) => {
  const a = await zipFiles([
    {name: 'b.js', data: Buffer.from('b')},
    {name: 'a.js', data: Buffer.from('a')},
  ])
  const b = await zipFiles([
    {name: 'a.js', data: Buffer.from('a')},
    {name: 'b.js', data: Buffer.from('b')},
  ])
  t.true(a.equals(b))
})
