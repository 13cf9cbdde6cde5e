/**
 * The init wizard: driven for real on a pseudo-terminal (util-linux `script`),
 * and its question flow through an injected answer source.
 */
import {spawn} from 'node:child_process'
import {mkdtemp, readdir, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import type {InitAnswers} from '../../src/config/scaffold.js'
import {type AnswerSource, askInitAnswers, canPrompt, type Question} from '../../src/ui/prompts.js'
import {repoRoot} from '../helpers/cli.js'

// Terminal escape sequences (ESC [ … letter), stripped to read the screen as text.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g')

interface Step {
  /** Text of the prompt (or of a validation message) to wait for. */
  waitFor: string
  send: string
}

/** Runs `ncap init` on a pty, answering each prompt when its text shows up. */
function drive(args: string[], steps: Step[]): Promise<{code: number; screen: string}> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete env.CI
  // The same entry as runCli (test/helpers/cli.ts): the tsx dev entry.
  const command = [process.execPath, '--import=tsx', '--no-warnings', join(repoRoot, 'bin', 'dev.js'), 'init', ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(' ')
  return new Promise((resolveRun, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe']})
    let screen = ''
    let seen = 0
    let next = 0
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const onData = (chunk: Buffer) => {
      screen += chunk.toString().replace(ANSI, '')
      const step = steps[next]
      if (step === undefined) return
      const at = screen.indexOf(step.waitFor, seen)
      if (at < 0) return
      seen = at + step.waitFor.length
      next++
      // A moment for inquirer to take the keyboard after rendering.
      setTimeout(() => child.stdin.write(step.send), 50)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveRun({code: code ?? -1, screen})
    })
  })
}

test('on a terminal the wizard asks what no flag gave, checks each answer as typed, and writes the pipeline', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'ncap-wizard-')), 'wiz')
  const backspaces = '\u007F'.repeat(20)
  const run = await drive(
    [dir, '--region', 'eu-west-1'],
    [
      {waitFor: 'Pipeline name', send: 'Bad Name\r'},
      {waitFor: 'is not an S3 bucket name', send: `${backspaces}wiz-pipe\r`},
      {waitFor: 'AMI id', send: '\r'},
      {waitFor: 'Instance type', send: '\r'},
      {waitFor: 'Command run on each instance', send: '\r'},
      {waitFor: 'Execution timeout', send: '600\r'},
      {waitFor: 'SSM command timeout', send: '\r'},
      {waitFor: 'Group and its users', send: `${backspaces}${backspaces}lab:alice,bob\r`},
      {waitFor: 'Another group', send: 'other:carol\r'},
      {waitFor: 'Another group', send: '\r'},
      {waitFor: 'Contact e-mail', send: 'pi@example.org\r'},
    ],
  )
  t.is(run.code, 0, run.screen.slice(-2000))
  t.false(run.screen.includes('AWS region'), 'the region came from a flag and is not asked')
  const config = JSON.parse(await readFile(join(dir, 'stack_config_template.json'), 'utf8'))
  t.is(config.PipelineName, 'wiz-pipe')
  t.is(config.REGION, 'eu-west-1')
  t.like(config.Lambda.LambdaConfig, {AMI: 'ami-0123456789abcdef0', INSTANCE_TYPE: 't3.micro', EXECUTION_TIMEOUT: 600, SSM_TIMEOUT: 172000})
  t.deepEqual(config.UXData.Affiliates, [
    {AffiliateName: 'lab', UserNames: ['alice', 'bob'], UserInput: true, ContactEmail: 'pi@example.org'},
    {AffiliateName: 'other', UserNames: ['carol'], UserInput: true, ContactEmail: 'pi@example.org'},
  ])
})

test('on a terminal, --yes asks nothing', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'ncap-wizard-'))
  const run = await drive([join(parent, 'quiet-pipe'), '--yes'], [])
  t.is(run.code, 0, run.screen)
  t.false(run.screen.includes('Pipeline name'))
  t.deepEqual(await readdir(join(parent, 'quiet-pipe', 'simevents')), [
    'cfn-create.json',
    'cfn-delete.json',
    'cfn-update.json',
    'ec2-state-change.json',
    's3-delete.json',
    's3-put.json',
    'schedule.json',
    'ssm-command-status.json',
  ])
})

/** An answer source that plays a script and records what was asked. */
function scripted(answers: Record<string, string[]>): {source: AnswerSource; asked: Question[]; rejected: string[]} {
  const asked: Question[] = []
  const rejected: string[] = []
  const source: AnswerSource = async (question) => {
    asked.push(question)
    const key = Object.keys(answers).find((k) => question.message.startsWith(k))
    const queue = key === undefined ? undefined : answers[key]
    if (queue === undefined) throw new Error(`unexpected question: ${question.message}`)
    for (;;) {
      const typed = queue.shift() ?? ''
      const value = typed === '' && question.default !== undefined ? question.default : typed
      const verdict = await question.validate(value)
      if (verdict === true) return value
      rejected.push(verdict)
    }
  }
  return {source, asked, rejected}
}

test('wizard flow (injected answer source): flags are not asked again, defaults are offered, bad answers are re-asked', async (t) => {
  const {source, asked, rejected} = scripted({
    'Pipeline name': ['UPPER', 'flow-pipe'],
    'AMI id': [''],
    'Instance type': ['huge', 'm5.xlarge'],
    'Command run': ['run {} {} {} {} {}', ''],
    'Execution timeout': ['ten', '901', '300'],
    'SSM command timeout': [''],
    'Group and its users': ['lab', 'lab:ann'],
    'Another group': ['lab:bea', 'two:ann', ''],
    'Contact e-mail': [''],
  })
  const partial: Partial<InitAnswers> = {region: 'us-west-2'}
  const answers = await askInitAnswers(partial, {dir: '/tmp/somewhere/flow-pipe', source})
  t.deepEqual(answers, {
    name: 'flow-pipe',
    region: 'us-west-2',
    ami: 'ami-0123456789abcdef0',
    instanceType: 'm5.xlarge',
    command: 'cd /home/ubuntu && bin/run.sh "{}" "{}" "{}" "{}"',
    executionTimeout: 300,
    ssmTimeout: 172000,
    groups: [
      {name: 'lab', users: ['ann']},
      {name: 'two', users: ['ann']},
    ],
  })
  t.false(asked.some((q) => q.message.startsWith('AWS region')))
  t.is(asked.find((q) => q.message.startsWith('Pipeline name'))?.default, 'flow-pipe')
  t.is(rejected.length, 7, rejected.join('\n'))
  t.regex(rejected[0]!, /--name: "UPPER" is not an S3 bucket name/)
  t.regex(rejected[1]!, /--instance-type: "huge"/)
  t.regex(rejected[2]!, /--command: .*found 5/)
  t.regex(rejected[3]!, /--execution-timeout: expected a whole number of seconds, found "ten"/)
  t.regex(rejected[4]!, /--execution-timeout: "901".*at most 900/)
  t.regex(rejected[5]!, /--group "lab": expected NAME:USER1,USER2/)
  // 'lab:bea' repeats the group lab: the config's rule (unique group names) refuses it.
  t.regex(rejected[6]!, /^--group "lab:bea": /)
  t.is(asked.filter((q) => q.message.startsWith('Another group')).length, 2)
})

test('canPrompt: only on a TTY, never with CI=true or --yes', (t) => {
  t.true(canPrompt({yes: false, env: {}, stdinIsTTY: true}))
  t.false(canPrompt({yes: true, env: {}, stdinIsTTY: true}))
  t.false(canPrompt({yes: false, env: {CI: 'true'}, stdinIsTTY: true}))
  t.false(canPrompt({yes: false, env: {}, stdinIsTTY: false}))
})
