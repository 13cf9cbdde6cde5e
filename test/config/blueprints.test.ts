import path from 'node:path'
import {fileURLToPath} from 'node:url'
import test from 'ava'
import {ConfigError, loadPipeline} from '../../src/config/index.js'
import type {Diagnostic} from '../../src/config/model.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const blueprints = path.resolve(repo, '../shared/fixtures/neurocaas-blueprints')
const load = (name: string) => loadPipeline(path.join(blueprints, name), {workspaceDir: false})
const rules = (ds: Diagnostic[]) => ds.map((d) => d.rule)
const at = (ds: Diagnostic[], p: string) => ds.filter((d) => d.path === p)

async function refused(t: import('ava').ExecutionContext, name: string): Promise<ConfigError> {
  const error = await t.throwsAsync(load(name), {instanceOf: ConfigError})
  if (!error) throw new Error('not refused')
  t.is(error.exitCode, 2)
  t.true(error.diagnostics.every((d) => d.severity === 'error' && d.file === path.join(blueprints, name)))
  return error as ConfigError
}

test('dlc_web_stack loads with warnings for contact emails and the post-processing code', async (t) => {
  const {pipeline, warnings} = await load('dlc_web_stack.json')
  t.is(pipeline.name, 'dlc-ncap-web')
  t.is(pipeline.stage, 'websubstack')
  t.is(pipeline.groups.length, 10)
  t.is(warnings.filter((w) => w.rule === 'contact-email').length, 10)
  const post = at(warnings, '$.Lambda.PostCodeUri')
  t.is(post.length, 1)
  t.regex(
    post[0]!.message,
    /post-processing code \.\.\/\.\.\/protocols not found beside the config: build leaves the post-processing function out/,
  )
  t.deepEqual(pipeline.postProcess, {handler: 'postprocess.epipostprocess', language: 'python', declaredCodeUri: '../../protocols'})
  t.deepEqual(pipeline.submitHandler, {kind: 'ncap', declaredCodeUri: '../../protocols', declaredHandler: 'submit_start.handler_develop'})
  t.true(
    pipeline.users.some((u) => u.name === 'Begona.Gamallo-Lana@nyulangone.org'),
    'e-mail addresses are valid IAM user names',
  )
  t.is(pipeline.instance.deployLimit, 300)
  t.is(pipeline.instance.maxCost, 600)
})

test('caiman_dev_stack loads with warnings', async (t) => {
  const {pipeline, warnings} = await load('caiman_dev_stack.json')
  t.is(pipeline.stage, 'develop')
  t.is(pipeline.instance.executionTimeout, 180)
  t.is(pipeline.instance.securityGroups[0], 'testsgstack-SecurityGroupDeploy-C2Q3PGSF77Y3')
  t.is(pipeline.instance.iamRole, 'SSMRole')
  t.true(warnings.length > 0)
  t.true(rules(warnings).includes('post-process'))
  t.true(rules(warnings).includes('contact-email'))
  t.false(rules(warnings).includes('stage'), 'develop has a matching behaviour in ncap')
})

test('label-job-create loads; warnings include Requirements and the MAXCOST string', async (t) => {
  const {pipeline, warnings} = await load('label-job-create.json')
  t.is(pipeline.instance.maxCost, 300)
  t.is(typeof pipeline.instance.maxCost, 'number')
  t.is(pipeline.requirements, 'requirements_label.txt')
  t.is(pipeline.postProcess?.trigger, 'SeqLabel.json')
  t.is(at(warnings, '$.Lambda.Requirements').length, 1)
  const maxCost = at(warnings, '$.Lambda.LambdaConfig.MAXCOST')
  t.is(maxCost.length, 1)
  t.regex(maxCost[0]!.message, /MAXCOST/)
})

test('sam_dlc_stack loads with a warning that COMMAND will not receive the config key', async (t) => {
  const {pipeline, warnings} = await load('sam_dlc_stack.json')
  t.is(pipeline.stage, undefined)
  t.is(pipeline.instance.commandSlots, 3)
  t.false(pipeline.instance.monitor, 'explicit MONITOR false stays false')
  const command = at(warnings, '$.Lambda.LambdaConfig.COMMAND')
  t.is(command.length, 1)
  t.regex(command[0]!.message, /COMMAND has 3 \{\} slots: it will not receive the config key/)
})

test("radical loads with NeuroCAAS's defaults", async (t) => {
  const {pipeline} = await load('radical.json')
  t.is(pipeline.stage, 'webdev')
  t.is(pipeline.instance.maxCost, 300)
  t.true(pipeline.launch)
  t.is(pipeline.instance.deployLimit, 100)
  t.true(pipeline.instance.monitor)
  t.is(pipeline.instance.logFile, 'lambda_log.txt')
  t.deepEqual([pipeline.instance.logDir, pipeline.instance.outDir, pipeline.instance.inDir], ['logs', 'results', 'inputs'])
  t.is(pipeline.instance.shutdownBehavior, 'terminate')
  t.is(pipeline.instance.config, 'config.yaml')
})

test('epi_web_stack loads with jpccosyne and srbcosyne declared once each, in both groups', async (t) => {
  const {pipeline} = await load('epi_web_stack.json')
  for (const name of ['jpccosyne', 'srbcosyne']) {
    const users = pipeline.users.filter((u) => u.name === name)
    t.is(users.length, 1, name)
    t.deepEqual(users[0]!.groups, ['cunninghamlab', 'examplegroup2'])
  }
  t.is(pipeline.users.length, 5)
  t.deepEqual(pipeline.groups.find((g) => g.name === 'examplegroup2')?.userNames, ['jpccosyne', 'srbcosyne', 'tacosyne'])
  t.is(pipeline.groups[0]!.contactEmail, 'lab-contact@example.org')
})

test('sam_locanmf_stack is refused at COMMAND, which has 8 slots', async (t) => {
  const error = await refused(t, 'sam_locanmf_stack.json')
  const command = at(error.diagnostics, '$.Lambda.LambdaConfig.COMMAND')
  t.is(command.length, 1)
  t.regex(command[0]!.message, /at most four \{\} slots.*found 8/)
  t.regex(error.message, /\$\.Lambda\.LambdaConfig\.COMMAND: expected at most four/)
})

test('sam_abstraction_stack is refused with every placeholder in one ConfigError', async (t) => {
  const error = await refused(t, 'sam_abstraction_stack.json')
  const paths = error.diagnostics.map((d) => d.path)
  for (const p of [
    '$.PipelineName',
    '$.Lambda.LambdaConfig.AMI',
    '$.Lambda.LambdaConfig.INSTANCE_TYPE',
    '$.UXData.Affiliates[0].AffiliateName',
    '$.UXData.Affiliates[0].UserNames',
    '$.UXData.Affiliates[0].UserInput',
    '$.UXData.Affiliates[1].AffiliateName',
  ])
    t.true(paths.includes(p), p)
  t.regex(at(error.diagnostics, '$.PipelineName')[0]!.message, /Name of this pipeline/)
  t.regex(at(error.diagnostics, '$.Lambda.LambdaConfig.AMI')[0]!.found ?? '', /your ami here/)
  t.is(error.message.split('\n').length, error.diagnostics.length, 'one line per error')
})
