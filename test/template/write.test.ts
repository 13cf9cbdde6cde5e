import {mkdir, mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {COMPILED_TEMPLATE, compilePipeline, serializeTemplate, writeCompiled} from '../../src/template/index.js'
import {largePipeline, seedPipeline} from './pipelines.js'

test('writeCompiled writes the main and nested templates, then removes stale nested files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-write-'))
  const big = compilePipeline(largePipeline(2000, 200))
  const written = await writeCompiled(dir, big)
  t.is(written.length, Object.keys(big.nested).length + 1)
  t.is(written.at(-1), join(dir, COMPILED_TEMPLATE))
  t.is(await readFile(join(dir, COMPILED_TEMPLATE), 'utf8'), serializeTemplate(big.main))
  t.is(
    await readFile(join(dir, 'compiled_nested', 'Identity1.json'), 'utf8'),
    serializeTemplate(big.nested['compiled_nested/Identity1.json']!),
  )
  await writeFile(join(dir, 'compiled_nested', 'notes.txt'), 'kept: not a template')

  // A smaller build of the same pipeline folder leaves no nested template behind.
  const small = compilePipeline(seedPipeline(dir))
  const again = await writeCompiled(dir, small)
  t.deepEqual(again, [join(dir, COMPILED_TEMPLATE)])
  t.deepEqual(await readdir(join(dir, 'compiled_nested')), ['notes.txt'])
  t.deepEqual((await readdir(dir)).sort(), ['compiled_nested', COMPILED_TEMPLATE])
  t.is(await readFile(join(dir, COMPILED_TEMPLATE), 'utf8'), serializeTemplate(small.main))
})

test('writeCompiled leaves no temp files and removes an emptied compiled_nested folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-write-'))
  await mkdir(join(dir, 'compiled_nested'))
  await writeFile(join(dir, 'compiled_nested', 'Identity9.json'), '{}')
  await writeCompiled(dir, compilePipeline(seedPipeline(dir)))
  t.deepEqual(await readdir(dir), [COMPILED_TEMPLATE])
})

test('writeCompiled fails clearly when the folder cannot be written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-write-'))
  await writeFile(join(dir, 'blocker'), 'a file where a folder is expected')
  await t.throwsAsync(() => writeCompiled(join(dir, 'blocker'), compilePipeline(seedPipeline())), {code: 'EEXIST'})
  t.deepEqual(await readdir(dir), ['blocker'])
})
