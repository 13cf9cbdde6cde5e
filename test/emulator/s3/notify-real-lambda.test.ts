/**
 * S3 notifications end to end with the real Lambda and CloudWatch Logs services: the
 * configuration is refused until the function allows s3.amazonaws.com for the bucket
 * (AddPermission with SourceArn), an upload with spaces in its key reaches a Node function
 * URL-encoded, and after RemovePermission an upload is refused and the event record says why.
 */
import {CloudWatchLogsClient, FilterLogEventsCommand} from '@aws-sdk/client-cloudwatch-logs'
import * as lambda from '@aws-sdk/client-lambda'
import {CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import {credentials, type Emulator, emulator, lambdaRole, region, zipOf} from '../lambda/helpers.js'
import {failure} from './helpers.js'

let emu: Emulator
let s3: S3Client
let logs: CloudWatchLogsClient
const recorded: EmulatorEvent[] = []

const HANDLER = "export const handler = async (event) => { console.log('GOT ' + JSON.stringify(event)); return {ok: true} }\n"

async function until<T>(find: () => Promise<T | undefined> | T | undefined, what: string, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test.before(async () => {
  emu = await emulator({realLogs: true})
  emu.server.events.subscribe((e) => recorded.push(e))
  const config = {endpoint: emu.server.endpoint, region, credentials}
  s3 = new S3Client({...config, forcePathStyle: true})
  logs = new CloudWatchLogsClient(config)
})
test.after.always(async () => {
  s3?.destroy()
  logs?.destroy()
  await emu?.close()
})

test('real Lambda: refused until AddPermission; a key with spaces arrives URL-encoded; after RemovePermission the refusal is recorded', async (t) => {
  const role = await lambdaRole(emu.iam, 's3-notified-role')
  const made = await emu.lambda.send(
    new lambda.CreateFunctionCommand({
      FunctionName: 'on-object',
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await zipOf({'index.mjs': HANDLER})},
    }),
  )
  await s3.send(new CreateBucketCommand({Bucket: 'real-notify'}))
  const config = {
    Bucket: 'real-notify',
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [{Id: 'uploads', LambdaFunctionArn: made.FunctionArn, Events: ['s3:ObjectCreated:*' as const]}],
    },
  }
  const refused = await failure(s3.send(new PutBucketNotificationConfigurationCommand(config)))
  t.is(refused.name, 'InvalidArgument')
  t.is(refused.message, 'Unable to validate the following destination configurations')
  await emu.lambda.send(
    new lambda.AddPermissionCommand({
      FunctionName: 'on-object',
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: 'arn:aws:s3:::real-notify',
      SourceAccount: '000000000000',
    }),
  )
  await s3.send(new PutBucketNotificationConfigurationCommand(config))
  await s3.send(new PutObjectCommand({Bucket: 'real-notify', Key: 'in/my results.csv', Body: 'a,b\n'}))
  const line = await until(async () => {
    try {
      const out = await logs.send(new FilterLogEventsCommand({logGroupName: '/aws/lambda/on-object', filterPattern: 'GOT'}))
      return out.events?.find((e) => e.message?.includes('in/my+results.csv'))?.message
    } catch {
      return undefined
    }
  }, 'the function logging the event')
  const event = JSON.parse(line.slice(line.indexOf('GOT ') + 4)) as {
    Records: {eventName: string; s3: {object: {key: string; size: number}}}[]
  }
  t.is(event.Records[0]?.eventName, 'ObjectCreated:Put')
  t.is(event.Records[0]?.s3.object.key, 'in/my+results.csv')
  t.is(event.Records[0]?.s3.object.size, 4)
  t.truthy(recorded.find((e) => e.kind === 's3.notification' && e.outcome === 'delivered' && e.correlation?.key === 'in/my results.csv'))

  await emu.lambda.send(new lambda.RemovePermissionCommand({FunctionName: 'on-object', StatementId: 's3'}))
  await s3.send(new PutObjectCommand({Bucket: 'real-notify', Key: 'in/late.csv', Body: 'x'}))
  const skipped = await until(
    () => recorded.find((e) => e.kind === 's3.notification' && e.correlation?.key === 'in/late.csv'),
    'the refused delivery in the event record',
  )
  t.is(skipped.outcome, 'skipped')
  t.regex(skipped.reason ?? '', /missing permission/)
})
