/**
 * The corpus of bad configs: each one, given to `ncap build` and `ncap validate`
 * through the real CLI, is refused with exit 2, a message naming the file and the
 * JSON path, and nothing written beside the config.
 */
import {mkdtemp, readdir, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {runCli} from '../helpers/cli.js'

type Json = Record<string, unknown>

function seedConfig(): Json {
  return {
    PipelineName: 'dlcmonitored1',
    REGION: 'us-east-1',
    Lambda: {
      CodeUri: 'lambda_code',
      Handler: 'submit_start.handler',
      Launch: true,
      LambdaConfig: {
        AMI: 'ami-045deefcfb062fd2a',
        INSTANCE_TYPE: 'p2.xlarge',
        REGION: 'us-east-1',
        COMMAND: 'ls; cd ../../../home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"',
        SHUTDOWN_BEHAVIOR: 'terminate',
        EXECUTION_TIMEOUT: 180,
        SSM_TIMEOUT: 172000,
      },
    },
    UXData: {
      Affiliates: [
        {AffiliateName: 'carcealab2', UserNames: ['user21', 'user22'], UserInput: true, ContactEmail: 'lab@example.org'},
        {AffiliateName: 'testergroup2', UserNames: ['taiga2'], UserInput: true, ContactEmail: 'lab@example.org'},
      ],
    },
  }
}

const lambdaConfig = (c: Json) => (c.Lambda as Json).LambdaConfig as Json
const affiliate = (c: Json, i: number) => ((c.UXData as Json).Affiliates as Json[])[i]!

/** name -> [how to break the seed config, the JSON path the message must name] */
const corpus: Record<string, [(c: Json) => unknown, string]> = {
  'missing PipelineName': [(c) => delete c.PipelineName, '$.PipelineName'],
  'uppercase PipelineName': [(c) => (c.PipelineName = 'DLC_Monitored'), '$.PipelineName'],
  'PipelineName too long': [(c) => (c.PipelineName = 'a'.repeat(64)), '$.PipelineName'],
  'PipelineName is an IP address': [(c) => (c.PipelineName = '192.168.5.4'), '$.PipelineName'],
  'COMMAND with five slots': [(c) => (lambdaConfig(c).COMMAND = 'run {} {} {} {} {}'), '$.Lambda.LambdaConfig.COMMAND'],
  'misspelt COMMAND key': [
    (c) => {
      const lc = lambdaConfig(c)
      lc.COMAND = lc.COMMAND
      delete lc.COMMAND
    },
    '$.Lambda.LambdaConfig.COMAND',
  ],
  'AMI that is not an id': [(c) => (lambdaConfig(c).AMI = 'your ami here'), '$.Lambda.LambdaConfig.AMI'],
  'instance type sentence': [(c) => (lambdaConfig(c).INSTANCE_TYPE = 'your instance type here.'), '$.Lambda.LambdaConfig.INSTANCE_TYPE'],
  'negative timeout': [(c) => (lambdaConfig(c).EXECUTION_TIMEOUT = -5), '$.Lambda.LambdaConfig.EXECUTION_TIMEOUT'],
  'unknown region': [(c) => (c.REGION = 'the moon'), '$.REGION'],
  'unknown stage': [(c) => (c.STAGE = 'production'), '$.STAGE'],
  'bad shutdown behaviour': [(c) => (lambdaConfig(c).SHUTDOWN_BEHAVIOR = 'explode'), '$.Lambda.LambdaConfig.SHUTDOWN_BEHAVIOR'],
  'MONITOR as a string': [(c) => (lambdaConfig(c).MONITOR = 'yes'), '$.Lambda.LambdaConfig.MONITOR'],
  'OUTDIR with a slash': [(c) => (lambdaConfig(c).OUTDIR = 'results/x'), '$.Lambda.LambdaConfig.OUTDIR'],
  'UserNames not a list': [
    (c) => (affiliate(c, 0).UserNames = '[list of strings describing user names]'),
    '$.UXData.Affiliates[0].UserNames',
  ],
  'user name with a space': [(c) => (affiliate(c, 0).UserNames = ['user21', 'user 22']), '$.UXData.Affiliates[0].UserNames[1]'],
  'user twice in one group': [(c) => (affiliate(c, 0).UserNames = ['user21', 'User21']), '$.UXData.Affiliates[0].UserNames[1]'],
  'group name with a slash': [(c) => (affiliate(c, 1).AffiliateName = 'lab/two'), '$.UXData.Affiliates[1].AffiliateName'],
  'group declared twice': [(c) => (affiliate(c, 1).AffiliateName = 'CarceaLab2'), '$.UXData.Affiliates[1].AffiliateName'],
  'no affiliates': [(c) => ((c.UXData as Json).Affiliates = []), '$.UXData.Affiliates'],
  'UserInput as text': [(c) => (affiliate(c, 0).UserInput = 'A Boolean value'), '$.UXData.Affiliates[0].UserInput'],
  'CodeUri to nothing': [
    (c) => {
      const l = c.Lambda as Json
      l.CodeUri = 'no/such/folder'
      l.Handler = 'mine.handler'
    },
    '$.Lambda.CodeUri',
  ],
  'not an object': [() => undefined, '$'],
}

async function pipelineDir(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-bad-'))
  await writeFile(join(dir, 'stack_config_template.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2))
  return dir
}

for (const [name, [breakIt, path]] of Object.entries(corpus)) {
  test(`build refuses: ${name}`, async (t) => {
    const config = seedConfig()
    breakIt(config)
    const dir = await pipelineDir(name === 'not an object' ? [] : config)
    const result = await runCli(['build', dir])
    t.is(result.code, 2, result.stderr)
    t.true(result.stderr.includes('stack_config_template.json'), result.stderr)
    t.true(result.stderr.includes(`${path}:`) || result.stderr.includes(`${path} `), `expected ${path} in: ${result.stderr}`)
    t.deepEqual(await readdir(dir), ['stack_config_template.json'], 'nothing written beside the config')
  })
}

test('validate --json lists the errors with their paths and exits 2', async (t) => {
  const config = seedConfig()
  lambdaConfig(config).COMMAND = 'run {} {} {} {} {} {}'
  affiliate(config, 0).UserInput = 'maybe'
  const dir = await pipelineDir(config)
  const result = await runCli(['validate', dir, '--json'])
  t.is(result.code, 2)
  const report = JSON.parse(result.stdout) as {errors: {path: string}[]; warnings: unknown[]}
  const paths = report.errors.map((e) => e.path)
  t.true(paths.includes('$.Lambda.LambdaConfig.COMMAND'))
  t.true(paths.includes('$.UXData.Affiliates[0].UserInput'))
})

test('a config that is not JSON names the line and column', async (t) => {
  const dir = await pipelineDir('{\n  "PipelineName": "x",\n  oops\n}\n')
  const result = await runCli(['build', dir])
  t.is(result.code, 2)
  t.regex(result.stderr, /stack_config_template\.json/)
  t.regex(result.stderr, /line 3/i)
})

test('a folder with no config names the path it looked for', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-empty-'))
  const result = await runCli(['build', dir])
  t.is(result.code, 2)
  t.true(result.stderr.includes(join(dir, 'stack_config_template.json')) || result.stderr.includes(dir), result.stderr)
})

test('an unknown flag is a usage error with exit 2', async (t) => {
  const result = await runCli(['build', '--no-such-flag'])
  t.is(result.code, 2)
  t.regex(result.stderr, /no-such-flag/)
})
