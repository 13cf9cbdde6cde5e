/**
 * S3 event notifications to Lambda. The Lambda service is replaced here by a small fake
 * (a function table with resource policies that records what S3 invokes), so these tests
 * pin S3's side: validation, matching, the event's shape, asynchronous delivery and the
 * event record. End to end with the real Lambda service is the job-path tests' business.
 */
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import test from 'ava'
import {AwsError} from '../../../src/emulator/errors.js'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import type {LambdaInternal, ServiceInvocation} from '../../../src/emulator/internal.js'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import type {EmulatedService, ServiceFactory} from '../../../src/emulator/types.js'
import {clientFor, failure} from './helpers.js'

const arnOf = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`

/** Functions by name, each with the bucket ARNs s3.amazonaws.com may invoke it for. */
const functions = new Map<string, {allowed: Set<string>; delayMs?: number}>()
const invoked: ServiceInvocation[] = []

const nameOf = (functionName: string) => functionName.split(':').at(-1) as string

const fakeLambda: LambdaInternal = {
  functionArn: (name) => (functions.has(nameOf(name)) ? arnOf(nameOf(name)) : undefined),
  checkServicePermission(name, principal, sourceArn) {
    const fn = functions.get(nameOf(name))
    if (!fn) return {allowed: false, reason: `Function not found: ${arnOf(nameOf(name))}`}
    if (principal !== 's3.amazonaws.com' || !sourceArn || !fn.allowed.has(sourceArn))
      return {allowed: false, reason: `no statement of its resource policy allows ${principal} for ${sourceArn}`}
    return {allowed: true}
  },
  async invokeAsService(invocation) {
    const check = fakeLambda.checkServicePermission(invocation.functionName, invocation.principal, invocation.sourceArn)
    if (!check.allowed) throw new AwsError('AccessDeniedException', check.reason, 403)
    const fn = functions.get(nameOf(invocation.functionName))
    if (fn?.delayMs) await new Promise((done) => setTimeout(done, fn.delayMs))
    invoked.push(invocation)
    return {statusCode: 202, requestId: `req-${invoked.length}`}
  },
}

const fakeLambdaService: ServiceFactory = (): EmulatedService => ({
  signingName: 'lambda',
  internal: fakeLambda,
  async handle() {
    throw new AwsError('UnknownOperationException', 'the fake Lambda serves no requests')
  },
})

let server: RunningServer
let s3: ReturnType<typeof clientFor>
const events: EmulatorEvent[] = []

test.before(async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-notify-'))
  server = await startServer({stateDir, port: 0, services: {lambda: fakeLambdaService}})
  server.events.subscribe((event) => {
    if (event.kind === 's3.notification') events.push(event)
  })
  s3 = clientFor(server.endpoint)
})
test.after.always(async () => {
  await server?.close()
})

async function until<T>(find: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 20))
  }
}

const recordFor = (key: string, eventName: string) =>
  until(
    () =>
      invoked.find((call) => {
        const record = (call.payload as {Records: {eventName: string; s3: {object: {key: string}}}[]}).Records[0]
        return record?.eventName === eventName && record.s3.object.key === key
      }),
    `${eventName} of ${key}`,
  ).then((call) => (call.payload as {Records: S3EventRecord[]}).Records[0] as S3EventRecord)

interface S3EventRecord {
  eventVersion: string
  eventSource: string
  awsRegion: string
  eventTime: string
  eventName: string
  userIdentity: {principalId: string}
  requestParameters: {sourceIPAddress: string}
  responseElements: Record<string, string>
  s3: {
    s3SchemaVersion: string
    configurationId: string
    bucket: unknown
    object: {key: string; size?: number; eTag?: string; versionId?: string; sequencer: string}
  }
}

test('with a fake Lambda: destinations are validated as AWS does (missing function, no permission); a valid one is stored', async (t) => {
  await s3.send(new CreateBucketCommand({Bucket: 'validate'}))
  const config = (name: string) => ({
    Bucket: 'validate',
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [{Id: 'on-put', LambdaFunctionArn: arnOf(name), Events: ['s3:ObjectCreated:*' as const]}],
    },
  })
  const missing = await failure(s3.send(new PutBucketNotificationConfigurationCommand(config('absent'))))
  t.is(missing.name, 'InvalidArgument')
  t.is(missing.message, 'Unable to validate the following destination configurations')
  functions.set('no-permission', {allowed: new Set()})
  const denied = await failure(s3.send(new PutBucketNotificationConfigurationCommand(config('no-permission'))))
  t.is(denied.message, 'Unable to validate the following destination configurations')
  functions.set('allowed', {allowed: new Set(['arn:aws:s3:::validate'])})
  await s3.send(new PutBucketNotificationConfigurationCommand(config('allowed')))
  const stored = await s3.send(new GetBucketNotificationConfigurationCommand({Bucket: 'validate'}))
  t.deepEqual(stored.LambdaFunctionConfigurations, [{Id: 'on-put', LambdaFunctionArn: arnOf('allowed'), Events: ['s3:ObjectCreated:*']}])
  // Overlapping rules (same event type, overlapping prefixes) are refused.
  const overlapping = await failure(
    s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'validate',
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              LambdaFunctionArn: arnOf('allowed'),
              Events: ['s3:ObjectCreated:*'],
              Filter: {Key: {FilterRules: [{Name: 'prefix', Value: 'a/'}]}},
            },
            {
              LambdaFunctionArn: arnOf('allowed'),
              Events: ['s3:ObjectCreated:Put'],
              Filter: {Key: {FilterRules: [{Name: 'prefix', Value: 'a/b'}]}},
            },
          ],
        },
      }),
    ),
  )
  t.is(overlapping.name, 'InvalidArgument')
  t.regex(overlapping.message, /overlap/)
})

test('with a fake Lambda: a PUT delivers the event in AWS shape (URL-encoded key, size, eTag, sequencer, bucket ARN) after the answer', async (t) => {
  await s3.send(new CreateBucketCommand({Bucket: 'shape'}))
  functions.set('shape-fn', {allowed: new Set(['arn:aws:s3:::shape']), delayMs: 1500})
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'shape',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Id: 'inputs',
            LambdaFunctionArn: arnOf('shape-fn'),
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  {Name: 'prefix', Value: 'inputs/'},
                  {Name: 'suffix', Value: '.json'},
                ],
              },
            },
          },
        ],
      },
    }),
  )
  const started = Date.now()
  const put = await s3.send(new PutObjectCommand({Bucket: 'shape', Key: 'inputs/my file (1).json', Body: '{"a":1}'}))
  // The function takes 1.5 s to accept: the PUT's answer never waits for it.
  t.true(Date.now() - started < 1000, `PUT took ${Date.now() - started} ms`)
  const record = await recordFor('inputs/my+file+%281%29.json', 'ObjectCreated:Put')
  t.is(record.eventVersion, '2.1')
  t.is(record.eventSource, 'aws:s3')
  t.is(record.awsRegion, 'us-east-1')
  t.regex(record.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.is(record.userIdentity.principalId, '000000000000')
  t.is(record.requestParameters.sourceIPAddress, '127.0.0.1')
  t.truthy(record.responseElements['x-amz-request-id'])
  t.truthy(record.responseElements['x-amz-id-2'])
  t.is(record.s3.s3SchemaVersion, '1.0')
  t.is(record.s3.configurationId, 'inputs')
  t.deepEqual(record.s3.bucket, {name: 'shape', ownerIdentity: {principalId: '000000000000'}, arn: 'arn:aws:s3:::shape'})
  t.is(record.s3.object.size, 7)
  t.is(`"${record.s3.object.eTag}"`, put.ETag as string)
  t.regex(record.s3.object.sequencer, /^[0-9A-F]{16,}$/)
  t.is(record.s3.object.versionId, undefined)
  const call = invoked.find((entry) =>
    (entry.payload as {Records: {s3: {object: {key: string}}}[]}).Records[0]?.s3.object.key.startsWith('inputs/my+file'),
  )
  t.is(call?.invocationType, 'Event')
  t.is(call?.principal, 's3.amazonaws.com')
  t.is(call?.sourceArn, 'arn:aws:s3:::shape')
  t.is(call?.sourceAccount, '000000000000')
  t.deepEqual(call?.correlation, {
    bucket: 'shape',
    key: 'inputs/my file (1).json',
    requestId: record.responseElements['x-amz-request-id'] ?? '',
  })
  const delivered = await until(() => events.find((e) => e.outcome === 'delivered' && e.correlation?.bucket === 'shape'), 'delivered event')
  t.is(delivered.resource, arnOf('shape-fn'))
})

test('with a fake Lambda: copy, multipart completion, delete and delete markers each fire their event type', async (t) => {
  await s3.send(new CreateBucketCommand({Bucket: 'kinds'}))
  functions.set('kinds-fn', {allowed: new Set(['arn:aws:s3:::kinds'])})
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'kinds',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {Id: 'created', LambdaFunctionArn: arnOf('kinds-fn'), Events: ['s3:ObjectCreated:*']},
          {Id: 'removed', LambdaFunctionArn: arnOf('kinds-fn'), Events: ['s3:ObjectRemoved:*']},
        ],
      },
    }),
  )
  await s3.send(new PutObjectCommand({Bucket: 'kinds', Key: 'a.txt', Body: 'a'}))
  await s3.send(new CopyObjectCommand({Bucket: 'kinds', Key: 'b.txt', CopySource: 'kinds/a.txt'}))
  t.is((await recordFor('b.txt', 'ObjectCreated:Copy')).s3.configurationId, 'created')
  const upload = await s3.send(new CreateMultipartUploadCommand({Bucket: 'kinds', Key: 'c.bin'}))
  const part = await s3.send(new UploadPartCommand({Bucket: 'kinds', Key: 'c.bin', UploadId: upload.UploadId, PartNumber: 1, Body: 'ccc'}))
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'kinds',
      Key: 'c.bin',
      UploadId: upload.UploadId,
      MultipartUpload: {Parts: [{PartNumber: 1, ETag: part.ETag}]},
    }),
  )
  t.is((await recordFor('c.bin', 'ObjectCreated:CompleteMultipartUpload')).s3.object.size, 3)
  await s3.send(new DeleteObjectCommand({Bucket: 'kinds', Key: 'a.txt'}))
  const removed = await recordFor('a.txt', 'ObjectRemoved:Delete')
  t.is(removed.s3.configurationId, 'removed')
  t.is(removed.s3.object.size, undefined)
  await s3.send(new PutBucketVersioningCommand({Bucket: 'kinds', VersioningConfiguration: {Status: 'Enabled'}}))
  const put = await s3.send(new PutObjectCommand({Bucket: 'kinds', Key: 'v.txt', Body: 'v'}))
  t.is((await recordFor('v.txt', 'ObjectCreated:Put')).s3.object.versionId, put.VersionId)
  const marker = await s3.send(new DeleteObjectCommand({Bucket: 'kinds', Key: 'v.txt'}))
  const markerEvent = await recordFor('v.txt', 'ObjectRemoved:DeleteMarkerCreated')
  t.is(markerEvent.s3.object.versionId, marker.VersionId)
})

test('with a fake Lambda: nothing is silent — no configuration, no matching rule, and a permission removed later are recorded with why', async (t) => {
  await s3.send(new CreateBucketCommand({Bucket: 'quiet'}))
  await s3.send(new PutObjectCommand({Bucket: 'quiet', Key: 'x.txt', Body: 'x'}))
  const none = await until(() => events.find((e) => e.correlation?.bucket === 'quiet' && e.correlation.key === 'x.txt'), 'no-config event')
  t.is(none.outcome, 'skipped')
  t.regex(none.reason ?? '', /no notification configuration/)

  await s3.send(new CreateBucketCommand({Bucket: 'filtered'}))
  functions.set('filtered-fn', {allowed: new Set(['arn:aws:s3:::filtered'])})
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'filtered',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Id: 'only-json',
            LambdaFunctionArn: arnOf('filtered-fn'),
            Events: ['s3:ObjectCreated:*'],
            Filter: {Key: {FilterRules: [{Name: 'suffix', Value: '.json'}]}},
          },
        ],
      },
    }),
  )
  await s3.send(new PutObjectCommand({Bucket: 'filtered', Key: 'notes.txt', Body: 'n'}))
  const unmatched = await until(
    () => events.find((e) => e.correlation?.bucket === 'filtered' && e.correlation.key === 'notes.txt'),
    'no-match',
  )
  t.is(unmatched.outcome, 'skipped')
  t.regex(unmatched.summary, /no notification rule matched/)
  t.regex(unmatched.reason ?? '', /only-json.*suffix '\.json'/)

  // The function's policy no longer lets S3 in (as after RemovePermission): the delivery is refused and recorded.
  functions.set('filtered-fn', {allowed: new Set()})
  await s3.send(new PutObjectCommand({Bucket: 'filtered', Key: 'late.json', Body: '{}'}))
  const refused = await until(() => events.find((e) => e.correlation?.key === 'late.json'), 'refused delivery')
  t.is(refused.outcome, 'skipped')
  t.regex(refused.reason ?? '', /missing permission/)
})

test('with a fake Lambda: a notification journalled but not delivered when the emulator died is delivered after the restart', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-s3-notify-restart-'))
  const first = await startServer({stateDir, port: 0, services: {lambda: fakeLambdaService}})
  const client = clientFor(first.endpoint)
  functions.set('restart-fn', {allowed: new Set(['arn:aws:s3:::restarted'])})
  await client.send(new CreateBucketCommand({Bucket: 'restarted'}))
  await client.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'restarted',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [{Id: 'all', LambdaFunctionArn: arnOf('restart-fn'), Events: ['s3:ObjectCreated:*']}],
      },
    }),
  )
  await client.send(new PutObjectCommand({Bucket: 'restarted', Key: 'before.txt', Body: 'b'}))
  await recordFor('before.txt', 'ObjectCreated:Put')
  await first.close()
  // What a SIGKILL between the PUT's answer and its delivery leaves: the journal line, no delivery.
  const journal = join(stateDir, 's3', 'notifications-pending.jsonl')
  t.is(await readFile(journal, 'utf8'), '', 'delivered notifications leave nothing owed')
  const owed = {
    id: 'owed-1',
    bucket: 'restarted',
    change: {eventName: 'ObjectCreated:Put', key: 'owed key.txt', size: 5, etag: '0123456789abcdef0123456789abcdef'},
    time: Date.now(),
    sequencer: '0000018C00000001',
    request: {principalId: '000000000000', sourceIp: '127.0.0.1', requestId: 'req-before-kill'},
  }
  await writeFile(journal, `${JSON.stringify(owed)}\n{"id":"cut-by-the-k`)
  const second = await startServer({stateDir, port: 0, services: {lambda: fakeLambdaService}})
  try {
    const record = await recordFor('owed+key.txt', 'ObjectCreated:Put')
    t.is(record.responseElements['x-amz-request-id'], 'req-before-kill')
    t.is(record.s3.object.sequencer, '0000018C00000001')
    await until(async () => ((await readFile(journal, 'utf8')) === '' ? true : undefined), 'the journal emptied')
  } finally {
    await second.close()
  }
})
