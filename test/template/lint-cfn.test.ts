import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import test from 'ava'
import {findOnPath} from '../../src/template/lint/cfn-lint.js'
import {runCfnLint} from '../../src/template/lint/index.js'
import {cleanTemplate} from './lint-fixtures.js'

const installed = await findOnPath('cfn-lint')
const dir = await mkdtemp(path.join(tmpdir(), 'ncap-cfn-lint-'))
test.after.always(() => rm(dir, {recursive: true, force: true}))

async function writeTemplate(name: string, template: unknown): Promise<string> {
  const file = path.join(dir, name)
  await writeFile(file, `${JSON.stringify(template, null, 2)}\n`)
  return file
}

const cfnLintTest = installed ? test.serial : test.serial.skip
if (!installed) console.log('cfn-lint not installed (not on PATH); its tests are skipped')

cfnLintTest('cfn-lint finds no errors in the clean template and the errors of a broken one, in one run', async (t) => {
  const good = await writeTemplate('good.json', cleanTemplate())
  const broken = cleanTemplate()
  broken.Resources.Bucket.Type = 'AWS::S3::Buckett'
  broken.Resources.Function.Properties.Environment.Variables.BUCKET = {Ref: 'Nope'}
  const bad = await writeTemplate('bad.json', broken)
  const diagnostics = await runCfnLint([good, bad])
  t.truthy(diagnostics)
  t.deepEqual(
    diagnostics!.filter((d) => d.file === good && d.severity === 'error'),
    [],
  )
  const errors = diagnostics!.filter((d) => d.file === bad && d.severity === 'error')
  t.true(errors.some((d) => d.rule === 'cfn-lint:E3006' && d.path === '$.Resources.Bucket.Type'))
  t.true(errors.some((d) => d.rule === 'cfn-lint:E1020' && d.path === '$.Resources.Function.Properties.Environment.Variables.BUCKET.Ref'))
  t.true(errors.every((d) => d.rule.startsWith('cfn-lint:') && d.message.length > 0))
})

cfnLintTest('a file that is not JSON is a finding (E0000), not a failure', async (t) => {
  const file = path.join(dir, 'garbage.json')
  await writeFile(file, '{"Resources": ')
  const diagnostics = await runCfnLint([file])
  t.true(diagnostics!.some((d) => d.file === file && d.severity === 'error' && d.rule.startsWith('cfn-lint:E0')))
})

test.serial('without cfn-lint on PATH the result is undefined', async (t) => {
  const saved = process.env.PATH
  process.env.PATH = dir
  try {
    t.is(await runCfnLint([path.join(dir, 'good.json')]), undefined)
  } finally {
    process.env.PATH = saved
  }
})

test('findOnPath finds executables only', async (t) => {
  const bin = await mkdtemp(path.join(dir, 'bin-'))
  await writeFile(path.join(bin, 'tool'), '#!/bin/sh\n', {mode: 0o755})
  await writeFile(path.join(bin, 'data'), 'x', {mode: 0o644})
  t.is(await findOnPath('tool', bin), path.join(bin, 'tool'))
  t.is(await findOnPath('data', bin), undefined)
})
