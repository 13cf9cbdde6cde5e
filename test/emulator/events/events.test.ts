/**
 * EventBridge through the real SDK v3 client, delivering to a fake Lambda
 * (only its internal invokeAsService; the real Lambda is tested in
 * real-lambda.test.ts once it lands): rules with patterns and schedules,
 * targets and their inputs, PutEvents, TestEventPattern, tags, the event
 * record, schedules on the emulator clock and resumed after a restart.
 */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRuleNamesByTargetCommand,
  ListRulesCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TagResourceCommand,
  TestEventPatternCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-eventbridge'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import type {EventsInternal} from '../../../src/emulator/internal.js'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {fakeLambda} from './fake-lambda.js'

const FN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`
const lambda = fakeLambda(['on-event', 'on-schedule', 'transformed', 'locked'])
let server: RunningServer
let stateDir = ''
let events: EventBridgeClient
const recorded: EmulatorEvent[] = []

const clientFor = (endpoint: string) =>
  new EventBridgeClient({endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})

async function start() {
  server = await startServer({stateDir, port: 0, services: {lambda: lambda.factory}})
  server.events.subscribe((e) => recorded.push(e))
  events = clientFor(server.endpoint)
}

test.before(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'ncap-events-')), 'state')
  await start()
})
test.after.always(async () => {
  events?.destroy()
  await server?.close()
})

async function errorOf(promise: Promise<unknown>): Promise<{name: string; message: string; status?: number}> {
  try {
    await promise
  } catch (error) {
    const e = error as Error & {$metadata?: {httpStatusCode?: number}}
    return {name: e.name, message: e.message, status: e.$metadata?.httpStatusCode}
  }
  throw new Error('expected the call to fail')
}

async function until<T>(find: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test.serial('the default bus; other buses do not exist', async (t) => {
  const bus = await events.send(new DescribeEventBusCommand({}))
  t.is(bus.Name, 'default')
  t.is(bus.Arn, 'arn:aws:events:us-east-1:000000000000:event-bus/default')
  const other = await errorOf(events.send(new DescribeEventBusCommand({Name: 'custom'})))
  t.is(other.name, 'ResourceNotFoundException')
  t.regex(other.message, /custom/)
})

test.serial('custom buses: create, list, rules and PutEvents on them, schedules refused, delete refused while rules remain', async (t) => {
  const made = await events.send(
    new CreateEventBusCommand({Name: 'lab-bus', Description: 'the lab', Tags: [{Key: 'team', Value: 'neuro'}]}),
  )
  t.is(made.EventBusArn, 'arn:aws:events:us-east-1:000000000000:event-bus/lab-bus')
  const dup = await errorOf(events.send(new CreateEventBusCommand({Name: 'lab-bus'})))
  t.is(dup.name, 'ResourceAlreadyExistsException')
  const listed = await events.send(new ListEventBusesCommand({}))
  t.deepEqual(
    listed.EventBuses?.map((b) => b.Name),
    ['default', 'lab-bus'],
  )
  t.is((await events.send(new DescribeEventBusCommand({Name: made.EventBusArn}))).Description, 'the lab')
  t.deepEqual((await events.send(new ListTagsForResourceCommand({ResourceARN: made.EventBusArn}))).Tags, [{Key: 'team', Value: 'neuro'}])

  const rule = await events.send(
    new PutRuleCommand({Name: 'on-lab', EventBusName: 'lab-bus', EventPattern: JSON.stringify({source: ['lab.bus']})}),
  )
  t.is(rule.RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/lab-bus/on-lab')
  t.is((await events.send(new DescribeRuleCommand({Name: 'on-lab', EventBusName: 'lab-bus'}))).EventBusName, 'lab-bus')
  const notOnDefault = await errorOf(events.send(new DescribeRuleCommand({Name: 'on-lab'})))
  t.is(notOnDefault.name, 'ResourceNotFoundException')
  const schedule = await errorOf(
    events.send(new PutRuleCommand({Name: 'tick', EventBusName: 'lab-bus', ScheduleExpression: 'rate(5 minutes)'})),
  )
  t.is(schedule.name, 'ValidationException')
  await events.send(new PutTargetsCommand({Rule: 'on-lab', EventBusName: 'lab-bus', Targets: [{Id: 'fn', Arn: FN('on-event')}]}))
  const next = lambda.next()
  const out = await events.send(
    new PutEventsCommand({Entries: [{EventBusName: 'lab-bus', Source: 'lab.bus', DetailType: 'x', Detail: '{}'}]}),
  )
  t.is(out.FailedEntryCount, 0)
  const call = await next
  t.is(call.sourceArn, rule.RuleArn)
  t.is((call.payload as {id: string}).id, out.Entries?.[0]?.EventId ?? '')
  const unknown = await events.send(
    new PutEventsCommand({Entries: [{EventBusName: 'no-bus', Source: 'lab.bus', DetailType: 'x', Detail: '{}'}]}),
  )
  t.is(unknown.Entries?.[0]?.ErrorCode, 'ResourceNotFoundException')

  const busy = await errorOf(events.send(new DeleteEventBusCommand({Name: 'lab-bus'})))
  t.is(busy.name, 'ValidationException')
  const defaultBus = await errorOf(events.send(new DeleteEventBusCommand({Name: 'default'})))
  t.is(defaultBus.name, 'ValidationException')
  await events.send(new RemoveTargetsCommand({Rule: 'on-lab', EventBusName: 'lab-bus', Ids: ['fn']}))
  await events.send(new DeleteRuleCommand({Name: 'on-lab', EventBusName: 'lab-bus'}))
  await events.send(new DeleteEventBusCommand({Name: 'lab-bus'}))
  t.deepEqual(
    (await events.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name),
    ['default'],
  )
})

test.serial('rules: put, describe, list by prefix with pagination, enable/disable, delete refused while targets remain', async (t) => {
  const pattern = JSON.stringify({source: ['lab.acquisition']})
  for (const name of ['acq-1', 'acq-2', 'acq-3', 'other']) {
    const out = await events.send(new PutRuleCommand({Name: name, EventPattern: pattern, Description: `rule ${name}`}))
    t.is(out.RuleArn, `arn:aws:events:us-east-1:000000000000:rule/${name}`)
  }
  const described = await events.send(new DescribeRuleCommand({Name: 'acq-1'}))
  t.like(described, {
    Name: 'acq-1',
    EventPattern: pattern,
    State: 'ENABLED',
    EventBusName: 'default',
    Description: 'rule acq-1',
    CreatedBy: '000000000000',
  })
  const page1 = await events.send(new ListRulesCommand({NamePrefix: 'acq-', Limit: 2}))
  t.deepEqual(
    page1.Rules?.map((r) => r.Name),
    ['acq-1', 'acq-2'],
  )
  const page2 = await events.send(new ListRulesCommand({NamePrefix: 'acq-', Limit: 2, NextToken: page1.NextToken}))
  t.deepEqual(
    page2.Rules?.map((r) => r.Name),
    ['acq-3'],
  )
  t.is(page2.NextToken, undefined)

  await events.send(new DisableRuleCommand({Name: 'acq-2'}))
  t.is((await events.send(new DescribeRuleCommand({Name: 'acq-2'}))).State, 'DISABLED')
  await events.send(new EnableRuleCommand({Name: 'acq-2'}))
  t.is((await events.send(new DescribeRuleCommand({Name: 'acq-2'}))).State, 'ENABLED')

  await events.send(new PutTargetsCommand({Rule: 'acq-3', Targets: [{Id: 't1', Arn: FN('on-event')}]}))
  const refused = await errorOf(events.send(new DeleteRuleCommand({Name: 'acq-3'})))
  t.is(refused.name, 'ValidationException')
  t.is(refused.message, "Rule can't be deleted since it has targets.")
  await events.send(new RemoveTargetsCommand({Rule: 'acq-3', Ids: ['t1']}))
  await events.send(new DeleteRuleCommand({Name: 'acq-3'}))
  const gone = await errorOf(events.send(new DescribeRuleCommand({Name: 'acq-3'})))
  t.is(gone.name, 'ResourceNotFoundException')
  t.regex(gone.message, /acq-3/)
  await events.send(new DeleteRuleCommand({Name: 'other'}))
})

test.serial('PutRule validation: patterns and schedule expressions as AWS parses them', async (t) => {
  const none = await errorOf(events.send(new PutRuleCommand({Name: 'empty'})))
  t.is(none.name, 'ValidationException')
  const badPattern = await errorOf(events.send(new PutRuleCommand({Name: 'bad', EventPattern: '{"source": "not-an-array"}'})))
  t.is(badPattern.name, 'InvalidEventPatternException')
  t.regex(badPattern.message, /^Event pattern is not valid/)
  const badOp = await errorOf(events.send(new PutRuleCommand({Name: 'bad', EventPattern: '{"source": [{"nonsense": 1}]}'})))
  t.is(badOp.name, 'InvalidEventPatternException')
  for (const expression of [
    'rate(1 minutes)',
    'rate(5 minute)',
    'rate(0 minutes)',
    'cron(0 10 * * MON *)',
    'cron(0 10 * * *)',
    'cron(61 * * * ? *)',
    'every 5 minutes',
  ]) {
    const refused = await errorOf(events.send(new PutRuleCommand({Name: 'bad-schedule', ScheduleExpression: expression})))
    t.is(refused.name, 'ValidationException', expression)
    t.is(refused.message, 'Parameter ScheduleExpression is not valid.', expression)
  }
  for (const expression of [
    'rate(1 minute)',
    'rate(2 hours)',
    'cron(0/15 * * * ? *)',
    'cron(0 10 ? * MON-FRI *)',
    'cron(0 18 ? * 6L *)',
    'cron(15 10 L * ? 2030)',
  ]) {
    await t.notThrowsAsync(
      events.send(new PutRuleCommand({Name: 'good-schedule', ScheduleExpression: expression, State: 'DISABLED'})),
      expression,
    )
  }
  await events.send(new DeleteRuleCommand({Name: 'good-schedule'}))
})

test.serial('TestEventPattern: the matching AWS documents', async (t) => {
  const event = {
    id: '1',
    account: '000000000000',
    source: 'aws.ec2',
    time: '2026-12-01T08:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:ec2:us-east-1:000000000000:instance/i-0abc'],
    'detail-type': 'EC2 Instance State-change Notification',
    detail: {'instance-id': 'i-0abc', state: 'stopped', cpu: 42, tags: ['a', 'b'], ip: '10.0.3.7', user: {name: 'Ada'}, empty: null},
  }
  const matches = async (pattern: unknown) =>
    (await events.send(new TestEventPatternCommand({EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event)}))).Result
  const cases: [unknown, boolean][] = [
    [{source: ['aws.ec2']}, true],
    [{source: ['aws.s3']}, false],
    [{detail: {state: ['running', 'stopped']}}, true],
    [{detail: {cpu: [42.0]}}, true],
    [{detail: {empty: [null]}}, true],
    [{detail: {tags: ['b']}}, true],
    [{source: [{prefix: 'aws.'}]}, true],
    [{'detail-type': [{suffix: 'Notification'}]}, true],
    [{'detail-type': [{suffix: {'equals-ignore-case': 'NOTIFICATION'}}]}, true],
    [{source: [{prefix: {'equals-ignore-case': 'AWS.'}}]}, true],
    [{detail: {state: [{'anything-but': 'stopped'}]}}, false],
    [{detail: {state: [{'anything-but': ['running', 'pending']}]}}, true],
    [{detail: {state: [{'anything-but': {prefix: 'stop'}}]}}, false],
    [{detail: {state: [{'anything-but': {suffix: 'ing'}}]}}, true],
    [{detail: {missing: [{'anything-but': 'x'}]}}, false],
    [{detail: {cpu: [{numeric: ['>', 40, '<=', 42]}]}}, true],
    [{detail: {cpu: [{numeric: ['<', 40]}]}}, false],
    [{detail: {'instance-id': [{exists: true}]}}, true],
    [{detail: {missing: [{exists: false}]}}, true],
    [{detail: {missing: [{exists: true}]}}, false],
    [{detail: {user: {name: [{'equals-ignore-case': 'ada'}]}}}, true],
    [{resources: [{wildcard: 'arn:aws:ec2:*:instance/i-*'}]}, true],
    [{detail: {ip: [{cidr: '10.0.0.0/16'}]}}, true],
    [{detail: {ip: [{cidr: '10.1.0.0/16'}]}}, false],
    [{$or: [{source: ['aws.s3']}, {detail: {state: ['stopped']}}]}, true],
    [{source: ['aws.ec2'], $or: [{detail: {cpu: [1]}}, {detail: {state: ['running']}}]}, false],
  ]
  for (const [pattern, expected] of cases) t.is(await matches(pattern), expected, JSON.stringify(pattern))
  const badEvent = await errorOf(events.send(new TestEventPatternCommand({EventPattern: '{"source":["x"]}', Event: '{"source":"x"}'})))
  t.is(badEvent.name, 'ValidationException')
})

test.serial('PutEvents reaches a matching Lambda target as events.amazonaws.com with the rule as source; the record says so', async (t) => {
  await events.send(
    new PutRuleCommand({Name: 'uploads', EventPattern: JSON.stringify({source: ['lab.upload'], detail: {size: [{numeric: ['>', 0]}]}})}),
  )
  await events.send(new PutTargetsCommand({Rule: 'uploads', Targets: [{Id: 'fn', Arn: FN('on-event')}]}))
  const next = lambda.next()
  const out = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'lab.upload',
          DetailType: 'Object Uploaded',
          Detail: JSON.stringify({key: 'a.tif', size: 10}),
          Resources: ['arn:aws:s3:::data'],
        },
        {Source: 'lab.upload', DetailType: 'Object Uploaded', Detail: '{not json'},
        {DetailType: 'x', Detail: '{}'},
      ],
    }),
  )
  t.is(out.FailedEntryCount, 2)
  t.truthy(out.Entries?.[0]?.EventId)
  t.is(out.Entries?.[1]?.ErrorCode, 'MalformedDetail')
  t.is(out.Entries?.[2]?.ErrorCode, 'InvalidArgument')
  const call = await next
  t.is(call.functionName, FN('on-event'))
  t.is(call.principal, 'events.amazonaws.com')
  t.is(call.sourceArn, 'arn:aws:events:us-east-1:000000000000:rule/uploads')
  t.is(call.invocationType, 'Event')
  const payload = call.payload as Record<string, unknown>
  t.like(payload, {
    version: '0',
    id: out.Entries?.[0]?.EventId,
    source: 'lab.upload',
    'detail-type': 'Object Uploaded',
    account: '000000000000',
    region: 'us-east-1',
  })
  t.deepEqual(payload.detail, {key: 'a.tif', size: 10})
  t.deepEqual(payload.resources, ['arn:aws:s3:::data'])
  t.regex(String(payload.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  const eventId = out.Entries![0]!.EventId!
  await until(() => recorded.find((e) => e.kind === 'events.target' && e.correlation?.eventId === eventId), 'the delivery record')
  t.truthy(recorded.find((e) => e.kind === 'events.rule-match' && e.correlation?.eventId === eventId && e.correlation?.rule === 'uploads'))
  t.is(recorded.find((e) => e.kind === 'events.target' && e.correlation?.eventId === eventId)?.outcome, 'delivered')

  // No rule matches: recorded as skipped.
  const miss = await events.send(new PutEventsCommand({Entries: [{Source: 'lab.nothing', DetailType: 'x', Detail: '{}'}]}))
  const missId = miss.Entries![0]!.EventId!
  const skipped = await until(() => recorded.find((e) => e.correlation?.eventId === missId), 'the no-match record')
  t.is(skipped.kind, 'events.no-match')
  t.is(skipped.outcome, 'skipped')
})

test.serial('a disabled rule, a refused permission and a missing function are each recorded with the reason', async (t) => {
  await events.send(new PutRuleCommand({Name: 'locked', EventPattern: JSON.stringify({source: ['lab.locked']})}))
  await events.send(
    new PutTargetsCommand({
      Rule: 'locked',
      Targets: [
        {Id: 'fn', Arn: FN('locked')},
        {Id: 'ghost', Arn: FN('ghost')},
      ],
    }),
  )
  lambda.denied.add('locked')
  const out = await events.send(new PutEventsCommand({Entries: [{Source: 'lab.locked', DetailType: 'x', Detail: '{}'}]}))
  const id = out.Entries![0]!.EventId!
  const denied = await until(() => recorded.find((e) => e.correlation?.eventId === id && e.correlation?.target === 'fn'), 'the denial')
  t.is(denied.outcome, 'denied')
  t.regex(denied.reason ?? '', /resource policy/)
  const ghost = await until(
    () => recorded.find((e) => e.correlation?.eventId === id && e.correlation?.target === 'ghost'),
    'the missing function',
  )
  t.is(ghost.outcome, 'failed')
  t.regex(ghost.reason ?? '', /ResourceNotFoundException/)

  await events.send(new DisableRuleCommand({Name: 'locked'}))
  const again = await events.send(new PutEventsCommand({Entries: [{Source: 'lab.locked', DetailType: 'x', Detail: '{}'}]}))
  const disabled = await until(() => recorded.find((e) => e.correlation?.eventId === again.Entries![0]!.EventId), 'the disabled record')
  t.is(disabled.kind, 'events.rule-disabled')
  t.is(disabled.outcome, 'skipped')
  lambda.denied.delete('locked')
})

test.serial('targets: Input, InputPath and InputTransformer shape what the function receives; listing and validation', async (t) => {
  await events.send(new PutRuleCommand({Name: 'shaped', EventPattern: JSON.stringify({source: ['lab.shaped']})}))
  await events.send(
    new PutTargetsCommand({
      Rule: 'shaped',
      Targets: [
        {Id: 'constant', Arn: FN('transformed'), Input: '{"fixed": true}'},
        {Id: 'path', Arn: FN('transformed'), InputPath: '$.detail.job'},
        {
          Id: 'template',
          Arn: FN('transformed'),
          InputTransformer: {
            InputPathsMap: {job: '$.detail.job.id', n: '$.detail.job.n'},
            InputTemplate: '{"job": <job>, "n": <n>, "text": "job <job> by <aws.events.rule-name>"}',
          },
        },
        {
          Id: 'sentence',
          Arn: FN('transformed'),
          InputTransformer: {InputPathsMap: {job: '$.detail.job.id'}, InputTemplate: '"job <job> arrived"'},
        },
      ],
    }),
  )
  const listed = await events.send(new ListTargetsByRuleCommand({Rule: 'shaped'}))
  t.deepEqual(
    listed.Targets?.map((target) => target.Id),
    ['constant', 'path', 'template', 'sentence'],
  )
  const byTarget = await events.send(new ListRuleNamesByTargetCommand({TargetArn: FN('transformed')}))
  t.deepEqual(byTarget.RuleNames, ['shaped'])

  const before = lambda.calls.length
  const out = await events.send(
    new PutEventsCommand({Entries: [{Source: 'lab.shaped', DetailType: 'x', Detail: JSON.stringify({job: {id: 'j-7', n: 3}})}]}),
  )
  const id = out.Entries![0]!.EventId!
  await until(
    () => (recorded.filter((e) => e.kind === 'events.target' && e.correlation?.eventId === id).length === 4 ? true : undefined),
    'four deliveries',
  )
  const payloads = Object.fromEntries(lambda.calls.slice(before).map((c) => [c.correlation?.target, c.payload]))
  t.deepEqual(payloads.constant, {fixed: true})
  t.deepEqual(payloads.path, {id: 'j-7', n: 3})
  t.deepEqual(payloads.template, {job: 'j-7', n: 3, text: 'job j-7 by shaped'})
  t.is(payloads.sentence, 'job j-7 arrived')

  const badInput = await errorOf(
    events.send(new PutTargetsCommand({Rule: 'shaped', Targets: [{Id: 'x', Arn: FN('transformed'), Input: '{nope'}]})),
  )
  t.is(badInput.name, 'ValidationException')
  const tooMany = await errorOf(
    events.send(
      new PutTargetsCommand({
        Rule: 'shaped',
        Targets: [
          {Id: 'a5', Arn: FN('transformed')},
          {Id: 'a6', Arn: FN('transformed')},
        ],
      }),
    ),
  )
  t.is(tooMany.name, 'LimitExceededException')
  const noRule = await errorOf(events.send(new PutTargetsCommand({Rule: 'nope', Targets: [{Id: 'x', Arn: FN('transformed')}]})))
  t.is(noRule.name, 'ResourceNotFoundException')
})

test.serial('tags on rules', async (t) => {
  const arn = 'arn:aws:events:us-east-1:000000000000:rule/shaped'
  await events.send(
    new TagResourceCommand({
      ResourceARN: arn,
      Tags: [
        {Key: 'team', Value: 'neuro'},
        {Key: 'stage', Value: 'dev'},
      ],
    }),
  )
  await events.send(new UntagResourceCommand({ResourceARN: arn, TagKeys: ['stage']}))
  t.deepEqual((await events.send(new ListTagsForResourceCommand({ResourceARN: arn}))).Tags, [{Key: 'team', Value: 'neuro'}])
  const missing = await errorOf(events.send(new ListTagsForResourceCommand({ResourceARN: `${arn}-nope`})))
  t.is(missing.name, 'ResourceNotFoundException')
})

test.serial(
  'a rate(5 minutes) schedule fires on the emulator clock in AWS shape, each period of an advance; disabled, it does not',
  async (t) => {
    await events.send(new PutRuleCommand({Name: 'every-5', ScheduleExpression: 'rate(5 minutes)'}))
    await events.send(new PutTargetsCommand({Rule: 'every-5', Targets: [{Id: 'fn', Arn: FN('on-schedule')}]}))
    const fired = () => lambda.calls.filter((c) => c.functionName === FN('on-schedule'))
    t.is(fired().length, 0)
    const result = await server.clock.advance(6 * 60_000)
    t.true(result.fired >= 1)
    t.is(fired().length, 1)
    const payload = fired()[0]!.payload as Record<string, unknown>
    t.like(payload, {source: 'aws.events', 'detail-type': 'Scheduled Event', account: '000000000000', region: 'us-east-1'})
    t.deepEqual(payload.resources, ['arn:aws:events:us-east-1:000000000000:rule/every-5'])
    t.deepEqual(payload.detail, {})
    t.regex(String(payload.time), /:00Z$/, 'scheduled events fall on the minute')
    await server.clock.advance(30 * 60_000)
    t.is(fired().length, 7, 'one firing per five minutes of the advance')
    await events.send(new DisableRuleCommand({Name: 'every-5'}))
    await server.clock.advance(30 * 60_000)
    t.is(fired().length, 7)
    await events.send(new EnableRuleCommand({Name: 'every-5'}))
  },
)

test.serial('EventsInternal.publish puts AWS services events on the default bus, with no resource policy in between', async (t) => {
  await events.send(
    new PutRuleCommand({Name: 'ec2-stopped', EventPattern: JSON.stringify({source: ['aws.ec2'], detail: {state: ['stopped']}})}),
  )
  await events.send(new PutTargetsCommand({Rule: 'ec2-stopped', Targets: [{Id: 'fn', Arn: FN('on-event')}]}))
  const internal = (await server.getService('events'))?.internal as EventsInternal
  const next = lambda.next()
  const [id] = internal.publish([
    {
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
      detail: {'instance-id': 'i-1', state: 'stopped'},
      resources: ['arn:aws:ec2:us-east-1:000000000000:instance/i-1'],
    },
  ])
  const call = await next
  t.is((call.payload as {id: string}).id, id ?? '')
  t.is((call.payload as {source: string}).source, 'aws.ec2')
})

test.serial('after a restart the rules are kept and schedules resume on the clock', async (t) => {
  await server.close()
  events.destroy()
  await start()
  t.is((await events.send(new DescribeRuleCommand({Name: 'every-5'}))).ScheduleExpression, 'rate(5 minutes)')
  t.deepEqual(
    (await events.send(new ListTargetsByRuleCommand({Rule: 'uploads'}))).Targets?.map((x) => x.Id),
    ['fn'],
  )
  const before = lambda.calls.filter((c) => c.functionName === FN('on-schedule')).length
  // Give start() its turn, then move the clock.
  await new Promise((r) => setTimeout(r, 100))
  await server.clock.advance(11 * 60_000)
  const after = lambda.calls.filter((c) => c.functionName === FN('on-schedule')).length
  t.true(after - before >= 2, `${after - before} firings after the restart`)
})
