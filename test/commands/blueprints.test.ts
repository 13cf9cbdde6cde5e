/**
 * The eight real NeuroCAAS blueprints through the real CLI, each with the outcome
 * the fixtures' table gives: `ncap validate --json` (warnings apart from errors,
 * exit 0 on warnings alone, 2 on config errors) and `ncap build`. cfn-lint on the
 * built templates is test/template/blueprints.test.ts's job.
 */
import {copyFile, mkdir, mkdtemp, readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import type {Diagnostic} from '../../src/config/model.js'
import {runCli, sharedDir} from '../helpers/cli.js'

const BLUEPRINTS = join(sharedDir, 'fixtures', 'neurocaas-blueprints')

interface Report {
  errors: Diagnostic[]
  warnings: Diagnostic[]
}

/** Each blueprint alone in its own workspace, so no neighbour changes who creates a user. */
async function alone(name: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'ncap-bp-')), name)
  await mkdir(dir)
  await copyFile(join(BLUEPRINTS, `${name}.json`), join(dir, 'stack_config_template.json'))
  return dir
}

async function validate(dir: string): Promise<{code: number; report: Report}> {
  const result = await runCli(['validate', dir, '--json', '--no-cfn-lint'])
  return {code: result.code, report: JSON.parse(result.stdout) as Report}
}

const warnedAt = (report: Report, fragment: string) => report.warnings.some((w) => w.path.includes(fragment))
const mentions = (report: Report, text: RegExp) => report.warnings.some((w) => text.test(w.message))

test('dlc_web_stack builds; warns about contact emails and the post-processing code', async (t) => {
  const dir = await alone('dlc_web_stack')
  const {code, report} = await validate(dir)
  t.is(code, 0)
  t.deepEqual(report.errors, [])
  t.true(warnedAt(report, 'ContactEmail'))
  t.true(warnedAt(report, 'PostCodeUri'))
  const build = await runCli(['build', dir])
  t.is(build.code, 0, build.stderr)
  t.regex(build.stdout, /post-processing function left out/)
})

test('caiman_dev_stack builds, with warnings', async (t) => {
  const {code, report} = await validate(await alone('caiman_dev_stack'))
  t.is(code, 0)
  t.true(report.warnings.length > 0)
})

test('label-job-create builds; warns about Requirements and the MAXCOST string', async (t) => {
  const {code, report} = await validate(await alone('label-job-create'))
  t.is(code, 0)
  t.true(warnedAt(report, 'Requirements'))
  t.true(warnedAt(report, 'MAXCOST'))
})

test('sam_dlc_stack builds; notes the command will not receive the config key', async (t) => {
  const {code, report} = await validate(await alone('sam_dlc_stack'))
  t.is(code, 0)
  t.true(warnedAt(report, 'COMMAND') && mentions(report, /config key/))
})

test('radical builds with NeuroCAAS defaults', async (t) => {
  const dir = await alone('radical')
  const {code} = await validate(dir)
  t.is(code, 0)
  const build = await runCli(['build', dir, '--json'])
  t.is(build.code, 0, build.stderr)
  const {readFile} = await import('node:fs/promises')
  const template = JSON.parse(await readFile(join(dir, 'compiled_template.json'), 'utf8'))
  const env = template.Resources.SubmitFunction.Properties.Environment.Variables
  t.is(env.MAXCOST, '300')
  t.is(env.DEPLOY_LIMIT, '100')
  t.is(env.LAUNCH, 'true')
  t.is(env.LOGFILE, 'lambda_log.txt')
})

test('epi_web_stack builds; users in two groups are declared once, added to both', async (t) => {
  const dir = await alone('epi_web_stack')
  t.is((await validate(dir)).code, 0)
  t.is((await runCli(['build', dir])).code, 0)
  const {readFile} = await import('node:fs/promises')
  const template = JSON.parse(await readFile(join(dir, 'compiled_template.json'), 'utf8'))
  const users = Object.values(
    template.Resources as Record<string, {Type: string; Properties: {UserName: string; Groups: unknown[]}}>,
  ).filter((r) => r.Type === 'AWS::IAM::User')
  const jpc = users.filter((u) => u.Properties.UserName === 'jpccosyne')
  t.is(jpc.length, 1)
  t.is(jpc[0]!.Properties.Groups.length, 2)
})

test('sam_locanmf_stack is refused, naming COMMAND and its eight slots', async (t) => {
  const dir = await alone('sam_locanmf_stack')
  const {code, report} = await validate(dir)
  t.is(code, 2)
  const command = report.errors.find((e) => e.path === '$.Lambda.LambdaConfig.COMMAND')
  t.truthy(command)
  t.regex(command!.message, /8/)
  const build = await runCli(['build', dir])
  t.is(build.code, 2)
  t.deepEqual(await readdir(dir), ['stack_config_template.json'])
})

test('sam_abstraction_stack is refused, naming PipelineName and the other placeholders', async (t) => {
  const {code, report} = await validate(await alone('sam_abstraction_stack'))
  t.is(code, 2)
  const paths = report.errors.map((e) => e.path)
  for (const path of [
    '$.PipelineName',
    '$.Lambda.LambdaConfig.AMI',
    '$.Lambda.LambdaConfig.INSTANCE_TYPE',
    '$.UXData.Affiliates[0].AffiliateName',
  ])
    t.true(paths.includes(path), `${path} in ${paths.join(', ')}`)
})

test('blueprints side by side form a workspace: a user two of them declare is created by one only', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ncap-bp-ws-'))
  for (const name of ['dlc_web_stack', 'epi_web_stack']) {
    await mkdir(join(root, name))
    await copyFile(join(BLUEPRINTS, `${name}.json`), join(root, name, 'stack_config_template.json'))
  }
  // Both declare the reviewers group's users; dlc-ncap-web sorts first, so it creates them.
  const epi = await validate(join(root, 'epi_web_stack'))
  t.is(epi.code, 0)
  t.true(epi.report.warnings.some((w) => /dlc-ncap-web/.test(w.message) && /editornn/.test(w.message)))
  const dlc = await validate(join(root, 'dlc_web_stack'))
  t.false(dlc.report.warnings.some((w) => /editornn/.test(w.message) && /epi-ncap-web/.test(w.message)))
})
