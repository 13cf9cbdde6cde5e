import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import test from 'ava'
import {CONFIG_FILE_NAME, ConfigError, formatDiagnostic, loadPipeline, resolveConfigPath} from '../../src/config/index.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function config(name: string, users: string[], ncap?: object): object {
  return {
    PipelineName: name,
    REGION: 'us-east-1',
    Lambda: {
      CodeUri: 'lambda_code',
      Handler: 'submit_start.handler',
      LambdaConfig: {AMI: 'ami-0123456789abcdef0', INSTANCE_TYPE: 't3.micro', COMMAND: 'bin/run.sh {} {} {} {}'},
    },
    UXData: {Affiliates: [{AffiliateName: 'lab', UserNames: users}]},
    ...(ncap ? {Ncap: ncap} : {}),
  }
}

/** A workspace folder of pipeline folders, removed after the test. */
async function workspace(t: import('ava').ExecutionContext, pipelines: Record<string, object | string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ncap-config-'))
  t.teardown(() => rm(root, {recursive: true, force: true}))
  for (const [folder, body] of Object.entries(pipelines)) {
    await mkdir(path.join(root, folder), {recursive: true})
    await writeFile(path.join(root, folder, CONFIG_FILE_NAME), typeof body === 'string' ? body : JSON.stringify(body, null, 2))
  }
  return root
}

test("the seed's example config loads with only ContactEmail warnings", async (t) => {
  const {pipeline, warnings} = await loadPipeline(path.join(repo, 'test/fixtures/seed'), {workspaceDir: false})
  t.is(pipeline.name, 'dlcmonitored1')
  t.deepEqual(
    pipeline.groups.map((g) => [g.name, g.userNames]),
    [
      ['carcealab2', ['user21', 'user22']],
      ['testergroup2', ['taiga2']],
    ],
  )
  t.is(pipeline.instance.command, 'ls; cd ../../../home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"')
  t.is(pipeline.instance.commandSlots, 4)
  t.deepEqual(pipeline.submitHandler, {kind: 'ncap', declaredCodeUri: 'lambda_code', declaredHandler: 'submit_start.handler'})
  t.is(warnings.length, 2)
  t.true(warnings.every((w) => w.rule === 'contact-email'))
})

test('a JSON syntax error names the file, line and column', async (t) => {
  const root = await workspace(t, {p: '{\n  "PipelineName": "p",\n  "REGION" "us-east-1"\n}\n'})
  const error = await t.throwsAsync(loadPipeline(path.join(root, 'p')), {instanceOf: ConfigError})
  const d = (error as ConfigError).diagnostics[0]!
  t.is(d.file, path.join(root, 'p', CONFIG_FILE_NAME))
  t.regex(d.message, /invalid JSON at line 3, column 12/)
  t.is((error as ConfigError).exitCode, 2)
})

test('JSON cut short points at its end', async (t) => {
  const root = await workspace(t, {p: '{\n  "PipelineName": "p",\n'})
  const error = await t.throwsAsync(loadPipeline(path.join(root, 'p')), {instanceOf: ConfigError})
  t.regex(error!.message, /line 3, column 1/)
})

test('a missing file or folder names the path', async (t) => {
  const root = await workspace(t, {})
  const missing = path.join(root, 'nope.json')
  const e1 = t.throws(() => resolveConfigPath(missing), {instanceOf: ConfigError})
  t.true(e1!.message.includes(missing))
  await mkdir(path.join(root, 'empty'))
  const e2 = await t.throwsAsync(loadPipeline(path.join(root, 'empty')), {instanceOf: ConfigError})
  t.true(e2!.message.includes(path.join(root, 'empty')))
  t.regex(e2!.message, /no stack_config_template\.json/)
  t.is((e2 as ConfigError).exitCode, 2)
})

test('resolveConfigPath accepts the file or its folder', async (t) => {
  const root = await workspace(t, {p: config('p-one', ['a'])})
  const file = path.join(root, 'p', CONFIG_FILE_NAME)
  t.is(resolveConfigPath(path.join(root, 'p')), file)
  t.is(resolveConfigPath(file), file)
})

test('a shared user is created by the pipeline whose name sorts first, and referenced by the other', async (t) => {
  const root = await workspace(t, {
    first: config('alpha-pipe', ['shared', 'only-alpha']),
    second: config('beta-pipe', ['Shared', 'only-beta']),
  })
  const alpha = await loadPipeline(path.join(root, 'first'))
  t.deepEqual(
    alpha.pipeline.users.map((u) => [u.name, u.existing, u.createdBy]),
    [
      ['shared', false, undefined],
      ['only-alpha', false, undefined],
    ],
  )
  t.deepEqual(alpha.warnings, [])
  const beta = await loadPipeline(path.join(root, 'second'))
  t.deepEqual(beta.pipeline.users[0], {name: 'Shared', groups: ['lab'], existing: true, createdBy: 'alpha-pipe'})
  t.false(beta.pipeline.users[1]!.existing)
  const w = beta.warnings.find((d) => d.rule === 'workspace')
  t.regex(w?.message ?? '', /alpha-pipe.*deploy alpha-pipe first/)
  t.is(w?.path, '$.UXData.Affiliates[0].UserNames[0]')
})

test('a pipeline that lists the user in ExistingUsers does not create it', async (t) => {
  const root = await workspace(t, {
    first: config('alpha-pipe', ['shared'], {ExistingUsers: ['shared']}),
    second: config('beta-pipe', ['shared']),
  })
  const alpha = await loadPipeline(path.join(root, 'first'))
  t.deepEqual(alpha.pipeline.users[0], {name: 'shared', groups: ['lab'], existing: true})
  const beta = await loadPipeline(path.join(root, 'second'))
  t.deepEqual(beta.pipeline.users[0], {name: 'shared', groups: ['lab'], existing: false})
})

test('two pipelines of the workspace with the same PipelineName is an error; workspaceDir false ignores them', async (t) => {
  const root = await workspace(t, {a: config('same-name', ['x']), b: config('same-name', ['y'])})
  const error = await t.throwsAsync(loadPipeline(path.join(root, 'a')), {instanceOf: ConfigError})
  const d = (error as ConfigError).diagnostics.find((e) => e.path === '$.PipelineName')
  t.true(d?.message.includes(path.join(root, 'b', CONFIG_FILE_NAME)))
  await t.notThrowsAsync(loadPipeline(path.join(root, 'a'), {workspaceDir: false}))
})

test('a sibling config that does not parse is skipped with a warning naming it', async (t) => {
  const root = await workspace(t, {good: config('good-pipe', ['x']), broken: '{ not json', odd: '[1, 2]'})
  const {pipeline, warnings} = await loadPipeline(path.join(root, 'good'))
  t.is(pipeline.name, 'good-pipe')
  const skipped = warnings.filter((w) => w.rule === 'workspace').map((w) => w.file)
  t.deepEqual(skipped.sort(), [path.join(root, 'broken', CONFIG_FILE_NAME), path.join(root, 'odd', CONFIG_FILE_NAME)])
  t.true(warnings.every((w) => formatDiagnostic(w).includes('warning: ')))
})

test('workspaceDir names another workspace folder', async (t) => {
  const root = await workspace(t, {mine: config('zeta-pipe', ['shared'])})
  const other = await workspace(t, {theirs: config('alpha-pipe', ['shared'])})
  const {pipeline} = await loadPipeline(path.join(root, 'mine'), {workspaceDir: other})
  t.is(pipeline.users[0]!.createdBy, 'alpha-pipe')
})

test('Ncap.LocalImages resolve against the config folder; a bad key is an error, a missing folder a warning', async (t) => {
  const root = await workspace(t, {
    p: config('img-pipe', ['x'], {LocalImages: {'ami-0123456789abcdef0': 'image', 'ami-0123abcd': '../elsewhere'}}),
  })
  await mkdir(path.join(root, 'p', 'image'))
  const {pipeline, warnings} = await loadPipeline(path.join(root, 'p'), {workspaceDir: false})
  t.deepEqual(pipeline.local.images, {
    'ami-0123456789abcdef0': path.join(root, 'p', 'image'),
    'ami-0123abcd': path.join(root, 'elsewhere'),
  })
  t.deepEqual(
    warnings.map((w) => w.path),
    ['$.Ncap.LocalImages["ami-0123abcd"]'],
  )
  const bad = await workspace(t, {p: config('img-pipe', ['x'], {LocalImages: {'my image': 'image'}})})
  const error = await t.throwsAsync(loadPipeline(path.join(bad, 'p'), {workspaceDir: false}), {instanceOf: ConfigError})
  t.regex(error!.message, /\$\.Ncap\.LocalImages\["my image"\]: expected an AMI id/)
})

test('a post-processing folder beside the config is used; a custom handler folder is honoured', async (t) => {
  const body = config('post-pipe', ['x']) as {Lambda: Record<string, unknown>}
  body.Lambda.PostCodeUri = 'post'
  body.Lambda.PostHandler = 'index.handler'
  body.Lambda.CodeUri = 'submit'
  body.Lambda.Handler = 'index.handler'
  const root = await workspace(t, {p: body})
  await mkdir(path.join(root, 'p', 'post'))
  await writeFile(path.join(root, 'p', 'post', 'index.mjs'), 'export const handler = async () => ({})\n')
  await mkdir(path.join(root, 'p', 'submit'))
  const {pipeline, warnings} = await loadPipeline(path.join(root, 'p'), {workspaceDir: false})
  t.deepEqual(pipeline.postProcess, {
    handler: 'index.handler',
    language: 'node',
    declaredCodeUri: 'post',
    codeDir: path.join(root, 'p', 'post'),
  })
  t.deepEqual(pipeline.submitHandler, {kind: 'custom', codeDir: path.join(root, 'p', 'submit'), handler: 'index.handler'})
  t.deepEqual(warnings, [])
})
