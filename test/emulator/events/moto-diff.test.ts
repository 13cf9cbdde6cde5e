/**
 * Differential test against moto_server: the same CloudWatch Logs and
 * EventBridge calls to both, answers compared after dropping what legitimately
 * differs (times, tokens, ids, byte counts). Where moto is wrong the
 * difference is named: moto omits logGroupClass (AWS sends STANDARD) and
 * TestEventPattern's Result.
 */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as logs from '@aws-sdk/client-cloudwatch-logs'
import * as events from '@aws-sdk/client-eventbridge'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {hasMoto, type RunningMoto, startMoto} from '../../helpers/moto.js'

const motoPresent = hasMoto()
const diff = motoPresent ? test : test.skip
if (!motoPresent) console.log('Skipping the moto differential tests for Logs and EventBridge: moto_server is not installed.')

let moto: RunningMoto | undefined
let server: RunningServer | undefined
const answers: {moto: Record<string, unknown>; emulator: Record<string, unknown>} = {moto: {}, emulator: {}}

const DROP = new Set([
  '$metadata',
  'creationTime',
  'firstEventTimestamp',
  'lastEventTimestamp',
  'lastIngestionTime',
  'ingestionTime',
  'eventId',
  'nextToken',
  'nextForwardToken',
  'nextBackwardToken',
  'nextSequenceToken',
  'uploadSequenceToken',
  'storedBytes',
  'CreationTime',
  'LastModifiedTime',
  // moto leaves these out; AWS sends them.
  'logGroupClass',
])

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, v]) => !DROP.has(key) && v !== undefined)
        .map(([key, v]) => [key, normalise(v)]),
    )
  }
  return value
}

const NOW = Date.now()

async function sequence(endpoint: string): Promise<Record<string, unknown>> {
  const config = {endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1}
  const l = new logs.CloudWatchLogsClient(config)
  const e = new events.EventBridgeClient(config)
  const out: Record<string, unknown> = {}
  const now = NOW
  const step = async (id: string, call: () => Promise<unknown>) => {
    try {
      out[id] = normalise(await call())
    } catch (error) {
      const err = error as Error & {$metadata?: {httpStatusCode?: number}}
      out[id] = {error: err.name, status: err.$metadata?.httpStatusCode}
    }
  }
  await step('CreateLogGroup', () => l.send(new logs.CreateLogGroupCommand({logGroupName: '/diff/a'})))
  await step('CreateLogGroup again', () => l.send(new logs.CreateLogGroupCommand({logGroupName: '/diff/a'})))
  await step('PutRetentionPolicy', () => l.send(new logs.PutRetentionPolicyCommand({logGroupName: '/diff/a', retentionInDays: 7})))
  await step('CreateLogStream', () => l.send(new logs.CreateLogStreamCommand({logGroupName: '/diff/a', logStreamName: 's1'})))
  const logEvents = [
    {timestamp: now - 1, message: 'ERROR x'},
    {timestamp: now, message: 'INFO y'},
  ]
  await step('PutLogEvents', () => l.send(new logs.PutLogEventsCommand({logGroupName: '/diff/a', logStreamName: 's1', logEvents})))
  await step('DescribeLogGroups', () => l.send(new logs.DescribeLogGroupsCommand({logGroupNamePrefix: '/diff/'})))
  await step('DescribeLogStreams', () => l.send(new logs.DescribeLogStreamsCommand({logGroupName: '/diff/a'})))
  await step('GetLogEvents', () =>
    l.send(new logs.GetLogEventsCommand({logGroupName: '/diff/a', logStreamName: 's1', startFromHead: true})),
  )
  await step('FilterLogEvents', () => l.send(new logs.FilterLogEventsCommand({logGroupName: '/diff/a', filterPattern: 'ERROR'})))
  await step('GetLogEvents missing group', () => l.send(new logs.GetLogEventsCommand({logGroupName: '/diff/none', logStreamName: 's1'})))
  await step('PutRule pattern', () => e.send(new events.PutRuleCommand({Name: 'r1', EventPattern: '{"source":["x"]}', Description: 'd'})))
  await step('PutRule schedule', () => e.send(new events.PutRuleCommand({Name: 'r2', ScheduleExpression: 'rate(5 minutes)'})))
  await step('DescribeRule pattern', () => e.send(new events.DescribeRuleCommand({Name: 'r1'})))
  await step('DescribeRule schedule', () => e.send(new events.DescribeRuleCommand({Name: 'r2'})))
  await step('ListRules', () => e.send(new events.ListRulesCommand({NamePrefix: 'r'})))
  const target = {Id: 't', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f', Input: '{"a":1}'}
  await step('PutTargets', () => e.send(new events.PutTargetsCommand({Rule: 'r1', Targets: [target]})))
  await step('ListTargetsByRule', () => e.send(new events.ListTargetsByRuleCommand({Rule: 'r1'})))
  await step('ListRuleNamesByTarget', () => e.send(new events.ListRuleNamesByTargetCommand({TargetArn: target.Arn})))
  await step('DescribeEventBus', () => e.send(new events.DescribeEventBusCommand({})))
  await step('DescribeRule missing', () => e.send(new events.DescribeRuleCommand({Name: 'nope'})))
  l.destroy()
  e.destroy()
  return out
}

test.before(async () => {
  if (!motoPresent) return
  moto = await startMoto({env: {MOTO_ACCOUNT_ID: '000000000000'}})
  server = await startServer({stateDir: join(await mkdtemp(join(tmpdir(), 'ncap-diff-events-')), 'state'), port: 0})
  answers.moto = await sequence(moto.endpoint)
  answers.emulator = await sequence(server.endpoint)
})
test.after.always(async () => {
  await moto?.stop()
  await server?.close()
})

diff('Logs and EventBridge answers agree with moto_server where moto follows AWS', (t) => {
  for (const id of Object.keys(answers.moto)) t.deepEqual(answers.emulator[id], answers.moto[id], id)
})
