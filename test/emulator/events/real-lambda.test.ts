/**
 * EventBridge with the real Lambda and CloudWatch Logs services: PutEvents and
 * a rate(5 minutes) schedule reach a Node function through its resource policy
 * (AddPermission for events.amazonaws.com with the rule as SourceArn), its
 * output lands in /aws/lambda/<name>; a function without that permission is
 * refused, and the event record says why.
 */
import {CloudWatchLogsClient, FilterLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import {EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand} from '@aws-sdk/client-eventbridge'
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import {credentials, type Emulator, emulator, lambdaRole, region, zipOf} from '../lambda/helpers.js'

let emu: Emulator
let events: EventBridgeClient
let logs: CloudWatchLogsClient
const recorded: EmulatorEvent[] = []
const RULE_ARN = (name: string) => `arn:aws:events:us-east-1:000000000000:rule/${name}`
const FN_ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`

const HANDLER = "export const handler = async (event) => { console.log('GOT ' + JSON.stringify(event)); return {ok: true} }\n"

async function createFunction(name: string, role: string, allowRule?: string) {
  await emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await zipOf({'index.mjs': HANDLER})},
    }),
  )
  await emu.lambda.send(new lambda.GetFunctionCommand({FunctionName: name}))
  if (allowRule)
    await emu.lambda.send(
      new lambda.AddPermissionCommand({
        FunctionName: name,
        StatementId: 'events',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: RULE_ARN(allowRule),
      }),
    )
}

async function logLines(fn: string, pattern: string): Promise<string[]> {
  try {
    const out = await logs.send(new FilterLogEventsCommand({logGroupName: `/aws/lambda/${fn}`, filterPattern: pattern}))
    return (out.events ?? []).map((e) => e.message ?? '')
  } catch {
    return []
  }
}

async function until<T>(find: () => Promise<T | undefined> | T | undefined, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test.before(async () => {
  emu = await emulator({realLogs: true})
  emu.server.events.subscribe((e) => recorded.push(e))
  const config = {endpoint: emu.server.endpoint, region, credentials}
  events = new EventBridgeClient(config)
  logs = new CloudWatchLogsClient(config)
  const role = await lambdaRole(emu.iam, 'events-target-role')
  await createFunction('on-upload', role, 'uploads')
  await createFunction('on-tick', role, 'tick')
  await createFunction('no-permission', role)
})
test.after.always(async () => {
  events?.destroy()
  logs?.destroy()
  await emu?.close()
})

test.serial('PutEvents reaches a real Node function through its resource policy; its output is in CloudWatch Logs', async (t) => {
  await events.send(new PutRuleCommand({Name: 'uploads', EventPattern: JSON.stringify({source: ['lab.upload']})}))
  await events.send(new PutTargetsCommand({Rule: 'uploads', Targets: [{Id: 'fn', Arn: FN_ARN('on-upload')}]}))
  const out = await events.send(
    new PutEventsCommand({Entries: [{Source: 'lab.upload', DetailType: 'Object Uploaded', Detail: JSON.stringify({key: 'a b.tif'})}]}),
  )
  const id = out.Entries![0]!.EventId!
  const lines = await until(async () => {
    const found = await logLines('on-upload', `"${id}"`)
    return found.length > 0 ? found : undefined
  }, 'the function output')
  const logged = JSON.parse(lines[0]!.slice(lines[0]!.indexOf('GOT ') + 4).trim())
  t.is(logged.id, id)
  t.deepEqual(logged.detail, {key: 'a b.tif'})
  t.is(recorded.find((e) => e.kind === 'events.target' && e.correlation?.eventId === id)?.outcome, 'delivered')
})

test.serial('a rate(5 minutes) rule fires the real function after the clock moves 6 minutes', async (t) => {
  await events.send(new PutRuleCommand({Name: 'tick', ScheduleExpression: 'rate(5 minutes)'}))
  await events.send(new PutTargetsCommand({Rule: 'tick', Targets: [{Id: 'fn', Arn: FN_ARN('on-tick')}]}))
  t.deepEqual(await logLines('on-tick', '"Scheduled Event"'), [])
  await emu.server.clock.advance(6 * 60_000)
  const lines = await until(async () => {
    const found = await logLines('on-tick', '"Scheduled Event"')
    return found.length > 0 ? found : undefined
  }, 'the scheduled invoke')
  t.is(lines.length, 1)
  t.regex(lines[0]!, /"resources":\["arn:aws:events:us-east-1:000000000000:rule\/tick"\]/)
})

test.serial('a function whose policy does not allow events.amazonaws.com is refused, and the record says why', async (t) => {
  await events.send(new PutRuleCommand({Name: 'locked', EventPattern: JSON.stringify({source: ['lab.locked']})}))
  await events.send(new PutTargetsCommand({Rule: 'locked', Targets: [{Id: 'fn', Arn: FN_ARN('no-permission')}]}))
  const out = await events.send(new PutEventsCommand({Entries: [{Source: 'lab.locked', DetailType: 'x', Detail: '{}'}]}))
  const id = out.Entries![0]!.EventId!
  const refused = await until(() => recorded.find((e) => e.kind === 'events.target' && e.correlation?.eventId === id), 'the refusal')
  t.is(refused.outcome, 'denied', JSON.stringify(refused))
  t.regex(refused.reason ?? '', /events\.amazonaws\.com/)
})
