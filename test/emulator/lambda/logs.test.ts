/**
 * A function's output reaches the emulator's real CloudWatch Logs service:
 * /aws/lambda/<name>, one AWS-style stream per worker, START/END/REPORT lines
 * and the handler's own lines, read back with GetLogEvents and FilterLogEvents.
 */
import * as logs from '@aws-sdk/client-cloudwatch-logs'
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import {credentials, type Emulator, emulator, lambdaRole, region, zipOf} from './helpers.js'

let emu: Emulator
let client: logs.CloudWatchLogsClient

test.before(async () => {
  emu = await emulator({realLogs: true})
  client = new logs.CloudWatchLogsClient({endpoint: emu.server.endpoint, region, credentials})
})
test.after.always(() => emu?.close())

test('invocations write START, the handler lines, END and REPORT to /aws/lambda/<name>', async (t) => {
  const role = await lambdaRole(emu.iam, 'logs-role')
  await emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: 'logger',
      Runtime: 'nodejs24.x',
      Role: role,
      Handler: 'index.handler',
      Code: {
        ZipFile: await zipOf({
          'index.mjs': 'export const handler = async (e) => { console.log("processing", e.id); console.error("warn line"); return e.id }\n',
        }),
      },
    }),
  )
  for (const id of ['first', 'second'])
    await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'logger', Payload: JSON.stringify({id})}))
  const streams = await client.send(new logs.DescribeLogStreamsCommand({logGroupName: '/aws/lambda/logger'}))
  t.is(streams.logStreams?.length, 1)
  const stream = streams.logStreams![0]!.logStreamName!
  t.regex(stream, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/)
  const got = await client.send(
    new logs.GetLogEventsCommand({logGroupName: '/aws/lambda/logger', logStreamName: stream, startFromHead: true}),
  )
  const messages = (got.events ?? []).map((event) => event.message ?? '')
  t.regex(messages[0] ?? '', /^INIT_START Runtime Version: nodejs24\.x/)
  t.true(messages.some((m) => /^START RequestId: \S+ Version: \$LATEST$/.test(m)))
  t.true(messages.some((m) => /\tINFO\tprocessing first$/.test(m)))
  t.true(messages.some((m) => /\tERROR\twarn line$/.test(m)))
  t.is(messages.filter((m) => m.startsWith('REPORT RequestId:')).length, 2)
  t.is(messages.filter((m) => m.includes('Init Duration')).length, 1)
  const filtered = await client.send(
    new logs.FilterLogEventsCommand({logGroupName: '/aws/lambda/logger', filterPattern: '"processing second"'}),
  )
  t.is(filtered.events?.length, 1)
})
