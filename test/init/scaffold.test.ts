/**
 * writeScaffold's promise: the folder is never left half-written, whatever fails.
 */
import {mkdir, mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {checkInitTarget, writeScaffold} from '../../src/config/scaffold.js'

const tempDir = () => mkdtemp(join(tmpdir(), 'ncap-scaffold-'))

test('a new folder appears whole, with executable files executable, and no staging folder is left', async (t) => {
  const parent = await tempDir()
  const dir = join(parent, 'a', 'b')
  const result = await writeScaffold(dir, [
    {path: 'x.json', content: '{}\n'},
    {path: 'image/bin/run.sh', content: '#!/bin/sh\n', executable: true},
  ])
  t.deepEqual(result.overwritten, [])
  t.is(await readFile(join(dir, 'x.json'), 'utf8'), '{}\n')
  t.is((await stat(join(dir, 'image/bin/run.sh'))).mode & 0o777, 0o755)
  t.deepEqual(await readdir(join(parent, 'a')), ['b'])
})

test('a failure while moving files into an existing folder puts back every file it replaced', async (t) => {
  const dir = await tempDir()
  await writeFile(join(dir, 'README.md'), 'old readme\n')
  await writeFile(join(dir, 'config.json'), 'old config\n')
  // A file where the scaffold needs a folder: the move fails on the third file.
  await writeFile(join(dir, 'image'), 'not a folder\n')
  await t.throwsAsync(
    writeScaffold(dir, [
      {path: 'README.md', content: 'new readme\n'},
      {path: 'config.json', content: 'new config\n'},
      {path: 'image/bin/run.sh', content: '#!/bin/sh\n', executable: true},
    ]),
  )
  t.is(await readFile(join(dir, 'README.md'), 'utf8'), 'old readme\n')
  t.is(await readFile(join(dir, 'config.json'), 'utf8'), 'old config\n')
  t.is(await readFile(join(dir, 'image'), 'utf8'), 'not a folder\n')
  t.deepEqual((await readdir(dir)).sort(), ['README.md', 'config.json', 'image'])
  t.deepEqual(
    (await readdir(join(dir, '..'))).filter((n) => n.startsWith(`.${dir.split('/').pop()}.ncap-init-`)),
    [],
  )
})

test('new subfolders made for the move are removed again when it fails', async (t) => {
  const dir = await tempDir()
  await writeFile(join(dir, 'blocker'), 'x')
  await t.throwsAsync(
    writeScaffold(dir, [
      {path: 'simevents/a.json', content: '{}\n'},
      {path: 'blocker/inside.txt', content: 'y\n'},
    ]),
  )
  t.deepEqual(await readdir(dir), ['blocker'])
})

test("checkInitTarget: absent and empty folders are fine; a non-empty one needs force; force still refuses a folder in a file's place", async (t) => {
  const parent = await tempDir()
  await t.notThrowsAsync(checkInitTarget(join(parent, 'absent'), {force: false}))
  await mkdir(join(parent, 'empty'))
  await t.notThrowsAsync(checkInitTarget(join(parent, 'empty'), {force: false}))
  await mkdir(join(parent, 'full', 'README.md'), {recursive: true})
  await t.throwsAsync(checkInitTarget(join(parent, 'full'), {force: false}), {message: /is not empty/})
  await t.notThrowsAsync(checkInitTarget(join(parent, 'full'), {force: true, files: [{path: 'x.json', content: ''}]}))
  const error = await t.throwsAsync(checkInitTarget(join(parent, 'full'), {force: true, files: [{path: 'README.md', content: ''}]}))
  t.is((error as Error & {exitCode?: number}).exitCode, 2)
})
