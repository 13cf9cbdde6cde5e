/**
 * `ncap init` through the real CLI, without a terminal (runCli sets CI=true).
 */
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {checkPipeline, loadPipeline} from '../../src/config/index.js'
import {repoRoot, runCli} from '../helpers/cli.js'

// CI=true: init must never prompt here, even if the test runner has a terminal.
const init = (args: string[]) => runCli(['init', ...args], {env: {CI: 'true'}})

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ncap-init-'))
}

// biome-ignore lint/suspicious/noExplicitAny: written JSON files are inspected field by field
async function json(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path, 'utf8'))
}

const SIMEVENTS = [
  'simevents/cfn-create.json',
  'simevents/cfn-delete.json',
  'simevents/cfn-update.json',
  'simevents/ec2-state-change.json',
  'simevents/s3-delete.json',
  'simevents/s3-put.json',
  'simevents/schedule.json',
  'simevents/ssm-command-status.json',
]
const FILES = ['stack_config_template.json', 'README.md', 'image/README.md', 'image/bin/run.sh', 'configs/config.yaml', ...SIMEVENTS]

test('flags only: writes the config, the image with an executable run.sh, filled simevents and a README', async (t) => {
  const dir = join(await tempDir(), 'dlc')
  const run = await init([
    dir,
    '--name',
    'dlc-tracking',
    '--region',
    'eu-west-1',
    '--ami',
    'ami-0abcdef1234567890',
    '--instance-type',
    'p3.2xlarge',
    '--execution-timeout',
    '600',
    '--ssm-timeout',
    '3600',
    '--group',
    'carcealab:alice,bob',
    '--group',
    'other:carol,alice',
    '--contact-email',
    'pi@example.org',
  ])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /Created pipeline dlc-tracking/)
  for (const file of FILES) t.true(existsSync(join(dir, file)), file)

  const config = await json(join(dir, 'stack_config_template.json'))
  t.is((await readFile(join(dir, 'stack_config_template.json'), 'utf8')).endsWith('}\n'), true)
  t.like(config, {
    PipelineName: 'dlc-tracking',
    REGION: 'eu-west-1',
    Lambda: {CodeUri: 'lambda_code', Handler: 'submit_start.handler', Launch: true},
  })
  t.like(config.Lambda.LambdaConfig, {
    AMI: 'ami-0abcdef1234567890',
    INSTANCE_TYPE: 'p3.2xlarge',
    REGION: 'eu-west-1',
    WORKING_DIRECTORY: '/home/ubuntu',
    COMMAND: 'cd /home/ubuntu && bin/run.sh "{}" "{}" "{}" "{}"',
    EXECUTION_TIMEOUT: 600,
    SSM_TIMEOUT: 3600,
    LAUNCH: true,
  })
  t.deepEqual(config.UXData.Affiliates, [
    {AffiliateName: 'carcealab', UserNames: ['alice', 'bob'], UserInput: true, ContactEmail: 'pi@example.org'},
    {AffiliateName: 'other', UserNames: ['carol', 'alice'], UserInput: true, ContactEmail: 'pi@example.org'},
  ])
  t.deepEqual(config.Ncap, {LocalImages: {'ami-0abcdef1234567890': 'image'}})

  // The config passes the config's own rules, and loads as ncap build will load it.
  const checked = checkPipeline(config, join(dir, 'stack_config_template.json'))
  t.deepEqual(checked.errors, [])
  const {pipeline} = await loadPipeline(dir, {workspaceDir: false})
  t.is(pipeline.local.images['ami-0abcdef1234567890'], join(dir, 'image'))
  t.deepEqual(
    pipeline.users.map((u) => [u.name, u.groups]),
    [
      ['alice', ['carcealab', 'other']],
      ['bob', ['carcealab']],
      ['carol', ['other']],
    ],
  )

  const runSh = join(dir, 'image', 'bin', 'run.sh')
  t.is((await stat(runSh)).mode & 0o111, 0o111)
  t.is(await readFile(runSh, 'utf8'), await readFile(join(repoRoot, 'templates', 'pipeline', 'image', 'bin', 'run.sh'), 'utf8'))

  for (const file of SIMEVENTS) t.false((await readFile(join(dir, file), 'utf8')).includes('{{'), `${file} has no placeholder left`)
  const put = await json(join(dir, 'simevents', 's3-put.json'))
  t.like(put.Records[0], {eventName: 'ObjectCreated:Put', awsRegion: 'eu-west-1'})
  t.like(put.Records[0].s3, {
    bucket: {name: 'dlc-tracking', arn: 'arn:aws:s3:::dlc-tracking'},
    object: {key: 'carcealab/submissions/submit.json'},
  })
  const create = await json(join(dir, 'simevents', 'cfn-create.json'))
  t.deepEqual(create.ResourceProperties.Groups, ['carcealab', 'other'])
  t.deepEqual(create.ResourceProperties.GroupFolders, ['inputs', 'results', 'logs', 'configs', 'submissions'])
  t.regex(create.StackId, /^arn:aws:cloudformation:eu-west-1:000000000000:stack\/dlc-tracking\/[0-9a-f-]{36}$/)

  const readme = await readFile(join(dir, 'README.md'), 'utf8')
  t.regex(readme, /^# dlc-tracking$/m)
  for (const step of ['ncap build', 'ncap validate', 'ncap deploy', 'ncap submit', 'PUT YOUR ANALYSIS HERE'])
    t.true(readme.includes(step), step)
  t.false(readme.includes('{{'))
  t.regex(await readFile(join(dir, 'image', 'README.md'), 'utf8'), /bin\/run\.sh "\{\}" "\{\}" "\{\}" "\{\}"/)
})

test('--yes takes the defaults: name from the folder, group lab, placeholder AMI, t3.micro, NeuroCAAS timeouts', async (t) => {
  const dir = join(await tempDir(), 'My_Lab Pipeline')
  const run = await init([dir, '--yes'])
  t.is(run.code, 0, run.stderr)
  const config = await json(join(dir, 'stack_config_template.json'))
  t.is(config.PipelineName, 'my-lab-pipeline')
  t.like(config.Lambda.LambdaConfig, {
    AMI: 'ami-0123456789abcdef0',
    INSTANCE_TYPE: 't3.micro',
    REGION: 'us-east-1',
    EXECUTION_TIMEOUT: 900,
    SSM_TIMEOUT: 172000,
  })
  t.deepEqual(config.UXData.Affiliates, [{AffiliateName: 'lab', UserNames: ['my-lab-pipeline-user'], UserInput: true}])
  t.regex(await readFile(join(dir, 'README.md'), 'utf8'), /is a placeholder/)
})

test('without a terminal, a missing --group is exit 2 naming --group, and nothing is written', async (t) => {
  const parent = await tempDir()
  const run = await init([join(parent, 'p'), '--name', 'my-pipeline'])
  t.is(run.code, 2)
  t.regex(run.stderr, /--group is required/)
  t.regex(run.stderr, /no terminal/)
  t.deepEqual(await readdir(parent), [])
})

test('a bad --name is exit 2 naming --name and the rule, and nothing is written', async (t) => {
  const parent = await tempDir()
  const run = await init([join(parent, 'p'), '--name', 'My Pipeline', '--group', 'lab:alice'])
  t.is(run.code, 2)
  t.regex(run.stderr, /--name: "My Pipeline" is not an S3 bucket name: must not contain uppercase letters/)
  t.deepEqual(await readdir(parent), [])
})

test('every bad answer is reported at once, each naming its flag', async (t) => {
  const parent = await tempDir()
  const run = await init([
    join(parent, 'p'),
    '--name',
    'ok-name',
    '--group',
    'lab x:alice',
    '--command',
    'run {} {} {} {} {}',
    '--ami',
    'ami-123',
    '--contact-email',
    'not-an-address',
  ])
  t.is(run.code, 2)
  t.regex(run.stderr, /--group "lab x:alice": "lab x" is not a group name/)
  t.regex(run.stderr, /--command: "run \{\} \{\} \{\} \{\} \{\}": expected at most four \{\} slots.*found 5/)
  t.regex(run.stderr, /--ami: "ami-123" is not an AMI id/)
  t.regex(run.stderr, /--contact-email: "not-an-address" is not an e-mail address/)
  t.deepEqual(await readdir(parent), [])
})

test('a malformed --group is exit 2 naming the value', async (t) => {
  const parent = await tempDir()
  const bads = ['lab', 'lab:', ':alice', 'lab:alice,,bob']
  const runs = await Promise.all(
    bads.map((bad) => init([join(parent, 'p'), '--name', 'my-pipeline', '--group', 'ok:alice', '--group', bad])),
  )
  for (const [i, run] of runs.entries()) {
    t.is(run.code, 2, bads[i])
    t.true(run.stderr.includes(`--group ${JSON.stringify(bads[i])}: expected NAME:USER1,USER2`), run.stderr)
  }
  t.deepEqual(await readdir(parent), [])
})

test('a non-empty folder is refused without --force (exit 2) and left unchanged', async (t) => {
  const dir = await tempDir()
  await writeFile(join(dir, 'README.md'), 'mine\n')
  const run = await init([dir, '--name', 'my-pipeline', '--group', 'lab:alice'])
  t.is(run.code, 2)
  t.regex(run.stderr, /is not empty \(README\.md\)/)
  t.regex(run.stderr, /--force/)
  t.deepEqual(await readdir(dir), ['README.md'])
  t.is(await readFile(join(dir, 'README.md'), 'utf8'), 'mine\n')
})

test("--force overwrites only ncap's own files, says which, and leaves the others alone", async (t) => {
  const dir = await tempDir()
  const first = await init([dir, '--name', 'my-pipeline', '--group', 'lab:alice'])
  t.is(first.code, 0, first.stderr)
  await writeFile(join(dir, 'README.md'), 'edited\n')
  await mkdir(join(dir, 'image', 'analysis'))
  await writeFile(join(dir, 'image', 'analysis', 'model.py'), 'print(1)\n')
  await writeFile(join(dir, 'notes.txt'), 'keep\n')

  const again = await init([dir, '--name', 'my-pipeline', '--group', 'lab:alice,bob', '--force', '--json'])
  t.is(again.code, 0, again.stderr)
  const result = JSON.parse(again.stdout)
  t.deepEqual(result.overwritten.sort(), [...FILES].sort())
  t.deepEqual((await json(join(dir, 'stack_config_template.json'))).UXData.Affiliates[0].UserNames, ['alice', 'bob'])
  t.regex(await readFile(join(dir, 'README.md'), 'utf8'), /^# my-pipeline/)
  t.is(await readFile(join(dir, 'notes.txt'), 'utf8'), 'keep\n')
  t.is(await readFile(join(dir, 'image', 'analysis', 'model.py'), 'utf8'), 'print(1)\n')
  t.deepEqual(
    (await readdir(join(dir, '..'))).filter((n) => n.startsWith('.')),
    [],
    'no staging folder left',
  )
})

test("--force still refuses when one of ncap's files is a folder there, and changes nothing", async (t) => {
  const dir = await tempDir()
  await mkdir(join(dir, 'README.md'))
  await writeFile(join(dir, 'keep.txt'), 'k\n')
  const run = await init([dir, '--name', 'my-pipeline', '--group', 'lab:alice', '--force'])
  t.is(run.code, 2)
  t.regex(run.stderr, /README\.md: ncap init needs a file there/)
  t.deepEqual((await readdir(dir)).sort(), ['README.md', 'keep.txt'])
})

test('DIR that is a file is exit 2', async (t) => {
  const file = join(await tempDir(), 'plain')
  await writeFile(file, 'x')
  const run = await init([file, '--yes'])
  t.is(run.code, 2)
  t.regex(run.stderr, /exists and is not a folder/)
})

test('--json prints {dir, files, config}; errors under --json are JSON with exit 2', async (t) => {
  const dir = join(await tempDir(), 'p')
  const run = await init([
    dir,
    '--name',
    'json-pipe',
    '--group',
    'lab:alice',
    '--command',
    'cd /home/ubuntu && bin/run.sh {} {} {}',
    '--json',
  ])
  t.is(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  t.is(result.dir, dir)
  t.deepEqual(result.files, FILES)
  t.deepEqual(result.config, await json(join(dir, 'stack_config_template.json')))
  t.deepEqual(result.warnings, [
    '--command: "cd /home/ubuntu && bin/run.sh {} {} {}": COMMAND has 3 {} slots: it will not receive the config key',
  ])

  const bad = await init([join(dir, 'q'), '--name', 'X', '--group', 'lab:alice', '--json'])
  t.is(bad.code, 2)
  const error = JSON.parse(bad.stdout).error
  t.is(error.code, 'UsageError')
  t.regex(error.message, /^--name: "X" is not an S3 bucket name/)
})
