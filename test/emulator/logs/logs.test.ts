/**
 * CloudWatch Logs through the real SDK v3 client: groups (prefix, pattern,
 * pagination, retention on the emulator's clock, tags), streams (order,
 * pagination), PutLogEvents rejections, GetLogEvents tokens both ways,
 * FilterLogEvents patterns, the internal append, and a restart replaying the journal.
 */
import {mkdtemp, readFile, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  StartLiveTailCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs'
import test from 'ava'
import type {LogsInternal} from '../../../src/emulator/internal.js'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

let server: RunningServer
let stateDir = ''
let logs: CloudWatchLogsClient

const clientFor = (endpoint: string) =>
  new CloudWatchLogsClient({endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})

test.before(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'ncap-logs-')), 'state')
  server = await startServer({stateDir, port: 0})
  logs = clientFor(server.endpoint)
})
test.after.always(async () => {
  logs?.destroy()
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

test.serial('log groups: create, duplicate refused, describe by prefix and pattern with pagination, delete', async (t) => {
  for (const name of ['/app/a', '/app/b', '/app/c', '/other/x']) await logs.send(new CreateLogGroupCommand({logGroupName: name}))
  const dup = await errorOf(logs.send(new CreateLogGroupCommand({logGroupName: '/app/a'})))
  t.is(dup.name, 'ResourceAlreadyExistsException')
  t.regex(dup.message, /\/app\/a/)
  const bad = await errorOf(logs.send(new CreateLogGroupCommand({logGroupName: 'bad name!'})))
  t.is(bad.name, 'InvalidParameterException')

  const first = await logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: '/app/', limit: 2}))
  t.deepEqual(
    first.logGroups?.map((g) => g.logGroupName),
    ['/app/a', '/app/b'],
  )
  t.truthy(first.nextToken)
  t.is(first.logGroups?.[0]?.arn, 'arn:aws:logs:us-east-1:000000000000:log-group:/app/a:*')
  t.is(first.logGroups?.[0]?.logGroupArn, 'arn:aws:logs:us-east-1:000000000000:log-group:/app/a')
  t.is(typeof first.logGroups?.[0]?.creationTime, 'number')
  const second = await logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: '/app/', limit: 2, nextToken: first.nextToken}))
  t.deepEqual(
    second.logGroups?.map((g) => g.logGroupName),
    ['/app/c'],
  )
  t.is(second.nextToken, undefined)
  const pattern = await logs.send(new DescribeLogGroupsCommand({logGroupNamePattern: 'OTHER'}))
  t.deepEqual(
    pattern.logGroups?.map((g) => g.logGroupName),
    ['/other/x'],
  )
  const both = await errorOf(logs.send(new DescribeLogGroupsCommand({logGroupNamePattern: 'x', logGroupNamePrefix: '/'})))
  t.is(both.name, 'InvalidParameterException')

  await logs.send(new DeleteLogGroupCommand({logGroupName: '/other/x'}))
  const gone = await errorOf(logs.send(new DeleteLogGroupCommand({logGroupName: '/other/x'})))
  t.is(gone.name, 'ResourceNotFoundException')
  t.regex(gone.message, /\/other\/x/)
})

test.serial('retention: only AWS values accepted; events past it disappear when the emulator clock advances', async (t) => {
  const group = '/retention/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group}))
  await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: 's'}))
  const bad = await errorOf(logs.send(new PutRetentionPolicyCommand({logGroupName: group, retentionInDays: 2})))
  t.is(bad.name, 'InvalidParameterException')
  await logs.send(new PutRetentionPolicyCommand({logGroupName: group, retentionInDays: 1}))
  const described = await logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: group}))
  t.is(described.logGroups?.[0]?.retentionInDays, 1)
  const now = server.clock.now()
  await logs.send(
    new PutLogEventsCommand({logGroupName: group, logStreamName: 's', logEvents: [{timestamp: now, message: 'kept for a day'}]}),
  )
  t.is((await logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's'}))).events?.length, 1)
  await server.clock.advance(25 * 3_600_000)
  t.is((await logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's'}))).events?.length, 0)
  await logs.send(new DeleteRetentionPolicyCommand({logGroupName: group}))
  const after = await logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: group}))
  t.is(after.logGroups?.[0]?.retentionInDays, undefined)
})

test.serial('streams: order by name or last event time, descending, pagination; delete', async (t) => {
  const group = '/streams/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group}))
  const now = server.clock.now()
  for (const [i, name] of ['c', 'a', 'b'].entries()) {
    await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: name}))
    await logs.send(
      new PutLogEventsCommand({logGroupName: group, logStreamName: name, logEvents: [{timestamp: now + i, message: `m${i}`}]}),
    )
  }
  const dup = await errorOf(logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: 'a'})))
  t.is(dup.name, 'ResourceAlreadyExistsException')
  const byName = await logs.send(new DescribeLogStreamsCommand({logGroupName: group}))
  t.deepEqual(
    byName.logStreams?.map((s) => s.logStreamName),
    ['a', 'b', 'c'],
  )
  t.is(byName.logStreams?.[0]?.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${group}:log-stream:a`)
  t.is(byName.logStreams?.[0]?.lastEventTimestamp, now + 1)
  const byTime = await logs.send(new DescribeLogStreamsCommand({logGroupName: group, orderBy: 'LastEventTime', descending: true}))
  t.deepEqual(
    byTime.logStreams?.map((s) => s.logStreamName),
    ['b', 'a', 'c'],
  )
  const page1 = await logs.send(new DescribeLogStreamsCommand({logGroupName: group, limit: 2}))
  t.deepEqual(
    page1.logStreams?.map((s) => s.logStreamName),
    ['a', 'b'],
  )
  const page2 = await logs.send(new DescribeLogStreamsCommand({logGroupName: group, limit: 2, nextToken: page1.nextToken}))
  t.deepEqual(
    page2.logStreams?.map((s) => s.logStreamName),
    ['c'],
  )
  const mixed = await errorOf(
    logs.send(new DescribeLogStreamsCommand({logGroupName: group, orderBy: 'LastEventTime', logStreamNamePrefix: 'a'})),
  )
  t.is(mixed.name, 'InvalidParameterException')
  await logs.send(new DeleteLogStreamCommand({logGroupName: group, logStreamName: 'c'}))
  const missing = await errorOf(
    logs.send(new PutLogEventsCommand({logGroupName: group, logStreamName: 'c', logEvents: [{timestamp: now, message: 'x'}]})),
  )
  t.is(missing.name, 'ResourceNotFoundException')
  t.regex(missing.message, /log stream/)
})

test.serial('PutLogEvents: sequence tokens ignored; too old, expired and too new events rejected by index', async (t) => {
  const group = '/put/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group}))
  await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: 's'}))
  const now = server.clock.now()
  const day = 86_400_000
  const out = await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: 's',
      sequenceToken: 'whatever',
      logEvents: [
        {timestamp: now - 15 * day, message: 'too old'},
        {timestamp: now - 1000, message: 'fine 1'},
        {timestamp: now, message: 'fine 2'},
        {timestamp: now + 3 * 3_600_000, message: 'too new'},
      ],
    }),
  )
  t.truthy(out.nextSequenceToken)
  t.deepEqual(out.rejectedLogEventsInfo, {tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 3})
  const got = await logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's', startFromHead: true}))
  t.deepEqual(
    got.events?.map((e) => e.message),
    ['fine 1', 'fine 2'],
  )
  const unordered = await errorOf(
    logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 's',
        logEvents: [
          {timestamp: now, message: 'b'},
          {timestamp: now - 5, message: 'a'},
        ],
      }),
    ),
  )
  t.is(unordered.name, 'InvalidParameterException')
})

test.serial('GetLogEvents: from the head and from the tail, forward and backward tokens, the same token back at the end', async (t) => {
  const group = '/get/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group}))
  await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: 's'}))
  const now = server.clock.now()
  const logEvents = Array.from({length: 5}, (_, i) => ({timestamp: now - 5000 + i, message: `line ${i}`}))
  await logs.send(new PutLogEventsCommand({logGroupName: group, logStreamName: 's', logEvents}))
  const msgs = (r: {events?: {message?: string}[]}) => r.events?.map((e) => e.message)

  const head = await logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's', startFromHead: true, limit: 2}))
  t.deepEqual(msgs(head), ['line 0', 'line 1'])
  t.regex(head.nextForwardToken ?? '', /^f\//)
  t.regex(head.nextBackwardToken ?? '', /^b\//)
  const next = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: head.nextForwardToken, limit: 2}),
  )
  t.deepEqual(msgs(next), ['line 2', 'line 3'])
  const last = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: next.nextForwardToken, limit: 2}),
  )
  t.deepEqual(msgs(last), ['line 4'])
  const end = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: last.nextForwardToken, limit: 2}),
  )
  t.deepEqual(msgs(end), [])
  t.is(end.nextForwardToken, last.nextForwardToken, 'at the end the same forward token comes back')

  const tail = await logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's', limit: 2}))
  t.deepEqual(msgs(tail), ['line 3', 'line 4'])
  const back = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: tail.nextBackwardToken, limit: 2}),
  )
  t.deepEqual(msgs(back), ['line 1', 'line 2'])
  const back2 = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: back.nextBackwardToken, limit: 2}),
  )
  t.deepEqual(msgs(back2), ['line 0'])
  const start = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: back2.nextBackwardToken, limit: 2}),
  )
  t.deepEqual(msgs(start), [])
  t.is(start.nextBackwardToken, back2.nextBackwardToken)

  const ranged = await logs.send(
    new GetLogEventsCommand({logGroupName: group, logStreamName: 's', startTime: now - 4999, endTime: now - 4997, startFromHead: true}),
  )
  t.deepEqual(msgs(ranged), ['line 1', 'line 2'])
  const badToken = await errorOf(logs.send(new GetLogEventsCommand({logGroupName: group, logStreamName: 's', nextToken: 'nonsense'})))
  t.is(badToken.name, 'InvalidParameterException')
})

test.serial('FilterLogEvents: terms, phrases, ? alternatives, - exclusions, JSON patterns, streams, time range, pagination', async (t) => {
  const group = '/filter/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group}))
  const now = server.clock.now()
  const lines: Record<string, string[]> = {
    'web-1': ['ERROR disk full', 'INFO started', '{"level":"error","ms":250,"user":{"id":"u-1"}}'],
    'web-2': ['WARN slow request', 'ERROR Out of memory', '{"level":"info","ms":20,"user":{"id":"u-2"}}'],
    'job-1': ['ERROR DEBUG noisy', 'INFO done'],
  }
  let i = 0
  for (const [stream, messages] of Object.entries(lines)) {
    await logs.send(new CreateLogStreamCommand({logGroupName: group, logStreamName: stream}))
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        logEvents: messages.map((message) => ({timestamp: now - 10_000 + i++, message})),
      }),
    )
  }
  const filter = async (input: Record<string, unknown>) =>
    (await logs.send(new FilterLogEventsCommand({logGroupName: group, ...input}))).events?.map((e) => e.message) ?? []

  t.deepEqual(await filter({filterPattern: 'ERROR'}), ['ERROR disk full', 'ERROR Out of memory', 'ERROR DEBUG noisy'])
  t.deepEqual(await filter({filterPattern: 'ERROR memory'}), ['ERROR Out of memory'])
  t.deepEqual(await filter({filterPattern: '"Out of memory"'}), ['ERROR Out of memory'])
  t.deepEqual(await filter({filterPattern: '?WARN ?disk'}), ['ERROR disk full', 'WARN slow request'])
  t.deepEqual(await filter({filterPattern: 'ERROR -DEBUG'}), ['ERROR disk full', 'ERROR Out of memory'])
  t.deepEqual(await filter({filterPattern: '{ $.level = "error" }'}), ['{"level":"error","ms":250,"user":{"id":"u-1"}}'])
  t.deepEqual(await filter({filterPattern: '{ $.ms > 100 || $.user.id = "u-2" }'}), [
    '{"level":"error","ms":250,"user":{"id":"u-1"}}',
    '{"level":"info","ms":20,"user":{"id":"u-2"}}',
  ])
  t.deepEqual(await filter({filterPattern: '{ ($.ms < 100) && ($.level != "error") }'}), ['{"level":"info","ms":20,"user":{"id":"u-2"}}'])
  t.deepEqual(await filter({filterPattern: '{ $.user.id = "u-*" && $.ms >= 250 }'}), ['{"level":"error","ms":250,"user":{"id":"u-1"}}'])
  t.deepEqual(await filter({filterPattern: 'INFO', logStreamNames: ['job-1']}), ['INFO done'])
  t.deepEqual(await filter({filterPattern: 'INFO', logStreamNamePrefix: 'web'}), ['INFO started'])
  t.deepEqual(await filter({startTime: now - 10_000 + 3, endTime: now - 10_000 + 4}), ['WARN slow request', 'ERROR Out of memory'])
  const both = await errorOf(logs.send(new FilterLogEventsCommand({logGroupName: group, logStreamNames: ['a'], logStreamNamePrefix: 'a'})))
  t.is(both.name, 'InvalidParameterException')
  const badJson = await errorOf(logs.send(new FilterLogEventsCommand({logGroupName: group, filterPattern: '{ $.level = }'})))
  t.is(badJson.name, 'InvalidParameterException')

  const seen: string[] = []
  let nextToken: string | undefined
  do {
    const page = await logs.send(new FilterLogEventsCommand({logGroupName: group, limit: 3, nextToken}))
    seen.push(...(page.events ?? []).map((e) => e.message!))
    for (const e of page.events ?? []) t.regex(e.eventId ?? '', /^\d{56}$/)
    nextToken = page.nextToken
  } while (nextToken)
  t.is(seen.length, 8)
})

test.serial('tags: TagLogGroup / ListTagsLogGroup and TagResource / UntagResource / ListTagsForResource by ARN', async (t) => {
  const group = '/tags/g'
  await logs.send(new CreateLogGroupCommand({logGroupName: group, tags: {team: 'neuro'}}))
  await logs.send(new TagLogGroupCommand({logGroupName: group, tags: {stage: 'dev'}}))
  t.deepEqual((await logs.send(new ListTagsLogGroupCommand({logGroupName: group}))).tags, {team: 'neuro', stage: 'dev'})
  const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${group}`
  await logs.send(new TagResourceCommand({resourceArn: arn, tags: {owner: 'lab'}}))
  await logs.send(new UntagResourceCommand({resourceArn: arn, tagKeys: ['team']}))
  t.deepEqual((await logs.send(new ListTagsForResourceCommand({resourceArn: arn}))).tags, {stage: 'dev', owner: 'lab'})
  const missing = await errorOf(logs.send(new ListTagsForResourceCommand({resourceArn: `${arn}-nope`})))
  t.is(missing.name, 'ResourceNotFoundException')
})

test.serial('StartLiveTail is refused by name', async (t) => {
  // The SDK sends StartLiveTail to a stream.<host> prefix, which 127.0.0.1 cannot take: disableHostPrefix.
  const tail = new CloudWatchLogsClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    maxAttempts: 1,
    disableHostPrefix: true,
  })
  const refused = await errorOf(
    tail.send(new StartLiveTailCommand({logGroupIdentifiers: ['arn:aws:logs:us-east-1:000000000000:log-group:/app/a']})),
  )
  tail.destroy()
  t.is(refused.name, 'UnknownOperationException')
  t.regex(refused.message, /StartLiveTail/)
})

test.serial('internal append creates the group and stream; a restarted emulator replays the journal', async (t) => {
  const internal = (await server.getService('logs'))?.internal as LogsInternal
  const now = server.clock.now()
  internal.append('us-east-1', '/aws/lambda/fn', '2026/12/01/[$LATEST]abc', [
    {timestamp: now + 1, message: 'END RequestId: 1'},
    {timestamp: now, message: 'START RequestId: 1'},
  ])
  const got = await logs.send(
    new GetLogEventsCommand({logGroupName: '/aws/lambda/fn', logStreamName: '2026/12/01/[$LATEST]abc', startFromHead: true}),
  )
  t.deepEqual(
    got.events?.map((e) => e.message),
    ['START RequestId: 1', 'END RequestId: 1'],
  )

  await server.close()
  server = await startServer({stateDir, port: 0})
  logs.destroy()
  logs = clientFor(server.endpoint)
  const again = await logs.send(
    new GetLogEventsCommand({logGroupName: '/aws/lambda/fn', logStreamName: '2026/12/01/[$LATEST]abc', startFromHead: true}),
  )
  t.deepEqual(
    again.events?.map((e) => e.message),
    ['START RequestId: 1', 'END RequestId: 1'],
  )
  const groups = await logs.send(new DescribeLogGroupsCommand({logGroupNamePrefix: '/app/'}))
  t.deepEqual(
    groups.logGroups?.map((g) => g.logGroupName),
    ['/app/a', '/app/b', '/app/c'],
  )
  t.deepEqual((await logs.send(new ListTagsLogGroupCommand({logGroupName: '/tags/g'}))).tags, {stage: 'dev', owner: 'lab'})
})

test.serial('a journal past 1 MB is compacted on open: every event kept, in order, and the expired ones dropped', async (t) => {
  const internal = (await server.getService('logs'))?.internal as LogsInternal
  const now = server.clock.now()
  const line = 'x'.repeat(100)
  for (let batch = 0; batch < 12; batch++)
    internal.append(
      'us-east-1',
      '/compact/g',
      's',
      Array.from({length: 1000}, (_, i) => ({timestamp: now + batch * 1000 + i, message: `${batch * 1000 + i} ${line}`})),
    )
  await logs.send(new CreateLogGroupCommand({logGroupName: '/compact/old'}))
  await logs.send(new CreateLogStreamCommand({logGroupName: '/compact/old', logStreamName: 's'}))
  await logs.send(
    new PutLogEventsCommand({logGroupName: '/compact/old', logStreamName: 's', logEvents: [{timestamp: now, message: 'expires'}]}),
  )
  await logs.send(new PutRetentionPolicyCommand({logGroupName: '/compact/old', retentionInDays: 1}))
  await server.close()
  const journal = join(stateDir, 'logs', 'journal.jsonl')
  const before = (await stat(journal)).size
  t.true(before > 1 << 20, `journal is ${before} bytes`)
  server = await startServer({stateDir, port: 0})
  await server.clock.advance(2 * 86_400_000)
  await server.close()
  server = await startServer({stateDir, port: 0})
  logs.destroy()
  logs = clientFor(server.endpoint)
  // Two days on, the group without retention keeps all 12,000 events; the one-day group lost its event.
  const head = await logs.send(new GetLogEventsCommand({logGroupName: '/compact/g', logStreamName: 's', startFromHead: true, limit: 3}))
  t.deepEqual(
    head.events?.map((e) => e.message?.split(' ')[0]),
    ['0', '1', '2'],
  )
  const tail = await logs.send(new GetLogEventsCommand({logGroupName: '/compact/g', logStreamName: 's', limit: 1}))
  t.is(tail.events?.[0]?.message?.split(' ')[0], '11999')
  const text = await readFile(journal, 'utf8')
  t.false(text.includes('"expires"'), 'the expired event is gone from the journal')
})
