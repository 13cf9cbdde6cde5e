/**
 * Smoke: the unmodified AWS CLI v2 (/usr/bin/aws) against a detached emulator
 * started by `ncap emulator start`: CloudWatch Logs by hand, `logs tail --follow`
 * printing a Lambda's output, `events put-rule`/`put-targets` with `put-events`
 * reaching a Lambda, and a `rate(5 minutes)` rule firing after
 * `ncap emulator clock advance 6m`, with `ncap emulator events` explaining it.
 */
import {execFile, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test, {type ExecutionContext} from 'ava'
import {runCli} from '../../helpers/cli.js'
import {zipOf} from '../lambda/helpers.js'

const AWS_V2 = '/usr/bin/aws'
const hasAwsV2 = existsSync(AWS_V2)
const smoke = hasAwsV2 ? test.serial : test.skip
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 logs/events smoke tests: ${AWS_V2} is absent (apt-get install awscli).`)

let work = ''
let stateDir = ''
let endpoint = ''
let role = ''

const awsEnv = () => ({
  PATH: process.env.PATH,
  HOME: work,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(work, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
  AWS_PAGER: '',
})

function aws(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((done) => {
    execFile(
      AWS_V2,
      ['--endpoint-url', endpoint, '--output', 'json', ...args],
      {env: awsEnv(), maxBuffer: 16 << 20},
      (error, stdout, stderr) => {
        done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
      },
    )
  })
}

async function awsOk(t: ExecutionContext, args: string[]): Promise<string> {
  const run = await aws(args)
  t.is(run.code, 0, `aws ${args.join(' ')} failed: ${run.stderr}`)
  return run.stdout
}

async function until<T>(find: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const HANDLER =
  "export const handler = async (event) => { console.log('HELLO FROM ' + (event['detail-type'] ?? event.who)); return {ok: true} }\n"

async function createFunction(t: ExecutionContext, name: string): Promise<string> {
  const zip = join(work, `${name}.zip`)
  await writeFile(zip, await zipOf({'index.mjs': HANDLER}))
  const made = JSON.parse(
    await awsOk(t, [
      'lambda',
      'create-function',
      '--function-name',
      name,
      '--runtime',
      'nodejs22.x',
      '--role',
      role,
      '--handler',
      'index.handler',
      '--zip-file',
      `fileb://${zip}`,
    ]),
  )
  await awsOk(t, ['lambda', 'wait', 'function-active-v2', '--function-name', name])
  return made.FunctionArn as string
}

async function logsOf(fn: string, pattern: string): Promise<string[]> {
  const run = await aws(['logs', 'filter-log-events', '--log-group-name', `/aws/lambda/${fn}`, '--filter-pattern', pattern])
  if (run.code !== 0) return []
  return (JSON.parse(run.stdout).events as {message: string}[]).map((e) => e.message)
}

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-logs-events-'))
  stateDir = join(work, 'state')
  const started = await runCli(['emulator', 'start', '--port', '0', '--json', '--state-dir', stateDir])
  if (started.code !== 0) throw new Error(`ncap emulator start failed: ${started.stderr}`)
  endpoint = (JSON.parse(started.stdout) as {endpoint: string}).endpoint
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
  })
  const made = await aws(['iam', 'create-role', '--role-name', 'smoke-fn', '--assume-role-policy-document', trust])
  if (made.code !== 0) throw new Error(`create-role failed: ${made.stderr}`)
  role = JSON.parse(made.stdout).Role.Arn
})
test.after.always(async () => {
  if (stateDir) await runCli(['emulator', 'stop', '--state-dir', stateDir])
})

smoke(
  'logs by hand: create-log-group, create-log-stream, put-log-events, get-log-events, filter-log-events, describe-log-groups',
  async (t) => {
    await awsOk(t, ['logs', 'create-log-group', '--log-group-name', '/smoke/app'])
    await awsOk(t, ['logs', 'create-log-stream', '--log-group-name', '/smoke/app', '--log-stream-name', 'web'])
    const now = Date.now()
    const events = JSON.stringify([
      {timestamp: now - 2, message: 'ERROR disk full'},
      {timestamp: now - 1, message: 'INFO all good'},
    ])
    await awsOk(t, ['logs', 'put-log-events', '--log-group-name', '/smoke/app', '--log-stream-name', 'web', '--log-events', events])
    const got = JSON.parse(
      await awsOk(t, ['logs', 'get-log-events', '--log-group-name', '/smoke/app', '--log-stream-name', 'web', '--start-from-head']),
    )
    t.deepEqual(
      got.events.map((e: {message: string}) => e.message),
      ['ERROR disk full', 'INFO all good'],
    )
    const filtered = JSON.parse(
      await awsOk(t, ['logs', 'filter-log-events', '--log-group-name', '/smoke/app', '--filter-pattern', 'ERROR']),
    )
    t.deepEqual(
      filtered.events.map((e: {message: string}) => e.message),
      ['ERROR disk full'],
    )
    const groups = JSON.parse(await awsOk(t, ['logs', 'describe-log-groups', '--log-group-name-prefix', '/smoke/']))
    t.deepEqual(
      groups.logGroups.map((g: {logGroupName: string}) => g.logGroupName),
      ['/smoke/app'],
    )
    const missing = await aws(['logs', 'get-log-events', '--log-group-name', '/smoke/none', '--log-stream-name', 'x'])
    t.not(missing.code, 0)
    t.regex(missing.stderr, /ResourceNotFoundException/)
  },
)

smoke('logs tail --follow prints a Lambda function output, also lines logged after it started', async (t) => {
  await createFunction(t, 'tailed')
  const payload = join(work, 'payload.json')
  await writeFile(payload, JSON.stringify({who: 'first invoke'}))
  await awsOk(t, [
    'lambda',
    'invoke',
    '--function-name',
    'tailed',
    '--cli-binary-format',
    'raw-in-base64-out',
    '--payload',
    `fileb://${payload}`,
    join(work, 'out1.json'),
  ])
  const tail = spawn(
    AWS_V2,
    ['--endpoint-url', endpoint, 'logs', 'tail', '/aws/lambda/tailed', '--follow', '--since', '1h', '--format', 'short'],
    {
      // Python block-buffers a piped stdout; unbuffered, each line arrives as the CLI prints it.
      env: {...awsEnv(), PYTHONUNBUFFERED: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let printed = ''
  let errors = ''
  tail.stdout.setEncoding('utf8').on('data', (text: string) => {
    printed += text
  })
  tail.stderr.setEncoding('utf8').on('data', (text: string) => {
    errors += text
  })
  try {
    await until(async () => (printed.includes('HELLO FROM first invoke') ? true : undefined), `the first output in logs tail (${errors})`)
    await writeFile(payload, JSON.stringify({who: 'second invoke'}))
    await awsOk(t, [
      'lambda',
      'invoke',
      '--function-name',
      'tailed',
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      `fileb://${payload}`,
      join(work, 'out2.json'),
    ])
    // The CLI polls FilterLogEvents every 5 seconds.
    await until(
      async () => (printed.includes('HELLO FROM second invoke') ? true : undefined),
      `the second output in logs tail (${errors})`,
      20_000,
    )
    t.regex(printed, /START RequestId: /)
    t.regex(printed, /REPORT RequestId: /)
  } finally {
    tail.kill('SIGTERM')
  }
})

smoke('events put-rule / put-targets with put-events reach a Lambda through its permission', async (t) => {
  const fn = await createFunction(t, 'on-event')
  const rule = JSON.parse(
    await awsOk(t, ['events', 'put-rule', '--name', 'smoke-uploads', '--event-pattern', JSON.stringify({source: ['smoke.lab']})]),
  )
  t.is(rule.RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/smoke-uploads')
  await awsOk(t, [
    'lambda',
    'add-permission',
    '--function-name',
    'on-event',
    '--statement-id',
    'events',
    '--action',
    'lambda:InvokeFunction',
    '--principal',
    'events.amazonaws.com',
    '--source-arn',
    rule.RuleArn,
  ])
  const targets = JSON.parse(
    await awsOk(t, ['events', 'put-targets', '--rule', 'smoke-uploads', '--targets', JSON.stringify([{Id: 'fn', Arn: fn}])]),
  )
  t.is(targets.FailedEntryCount, 0)
  const entries = JSON.stringify([{Source: 'smoke.lab', DetailType: 'Smoke Upload', Detail: '{"key":"a.tif"}'}])
  const put = JSON.parse(await awsOk(t, ['events', 'put-events', '--entries', entries]))
  t.is(put.FailedEntryCount, 0)
  const lines = await until(async () => {
    const found = await logsOf('on-event', '"HELLO FROM Smoke Upload"')
    return found.length > 0 ? found : undefined
  }, 'the function output')
  t.is(lines.length, 1)
  const refused = await aws(['events', 'delete-rule', '--name', 'smoke-uploads'])
  t.not(refused.code, 0)
  t.regex(refused.stderr, /Rule can't be deleted since it has targets/)
})

smoke('a rate(5 minutes) rule fires after `ncap emulator clock advance 6m`, and `ncap emulator events` explains it', async (t) => {
  const fn = await createFunction(t, 'on-tick')
  const rule = JSON.parse(await awsOk(t, ['events', 'put-rule', '--name', 'smoke-tick', '--schedule-expression', 'rate(5 minutes)']))
  await awsOk(t, [
    'lambda',
    'add-permission',
    '--function-name',
    'on-tick',
    '--statement-id',
    'events',
    '--action',
    'lambda:InvokeFunction',
    '--principal',
    'events.amazonaws.com',
    '--source-arn',
    rule.RuleArn,
  ])
  await awsOk(t, ['events', 'put-targets', '--rule', 'smoke-tick', '--targets', JSON.stringify([{Id: 'fn', Arn: fn}])])
  const bad = await aws(['events', 'put-rule', '--name', 'smoke-bad', '--schedule-expression', 'rate(5 minute)'])
  t.regex(bad.stderr, /Parameter ScheduleExpression is not valid/)
  t.deepEqual(await logsOf('on-tick', '"HELLO FROM Scheduled Event"'), [])

  const advanced = await runCli(['emulator', 'clock', 'advance', '6m', '--state-dir', stateDir])
  t.is(advanced.code, 0, advanced.stderr)
  t.regex(advanced.stdout, /schedule rate\(5 minutes\) of rule smoke-tick fired/)
  t.regex(advanced.stdout, /rule smoke-tick delivered event .* to arn:aws:lambda:us-east-1:000000000000:function:on-tick/)
  const lines = await until(async () => {
    const found = await logsOf('on-tick', '"HELLO FROM Scheduled Event"')
    return found.length > 0 ? found : undefined
  }, 'the scheduled output')
  t.is(lines.length, 1)
  const explained = await runCli(['emulator', 'events', '--service', 'events', '--state-dir', stateDir])
  t.regex(explained.stdout, /events\s+ok\s+schedule rate\(5 minutes\) of rule smoke-tick fired/)
  t.regex(explained.stdout, /events\s+delivered\s+rule smoke-tick delivered event/)
})
