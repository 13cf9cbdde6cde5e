/** `ncap generate-event`: AWS's event shapes from simevents/, S3-encoded keys, and events the handlers accept. */
import test from 'ava'
import {decodeEventKey} from '../../lambda_repo/lib/layout.js'
import {uploadsOf} from '../../lambda_repo/lib/s3-event.js'
import {eventNow, instancesOf} from '../../lambda_repo/monitor/monitor.js'
import {EVENT_TYPES, generateEvent} from '../../src/jobs/events.js'
import {runCli} from '../helpers/cli.js'

// biome-ignore lint/suspicious/noExplicitAny: events are inspected field by field
type Json = any

test('every type fills completely', async (t) => {
  for (const type of Object.keys(EVENT_TYPES)) {
    const event = await generateEvent(type, {bucket: 'b'})
    t.false(JSON.stringify(event).includes('{{'), type)
  }
})

test('s3-put: the key URL-encoded as S3 sends it, and the submit handler reads it back', async (t) => {
  const key = "lab/submissions/my run+(1)'s submit.json"
  const event: Json = await generateEvent('s3-put', {bucket: 'dlc', key, size: 42})
  t.is(event.Records[0].s3.object.key, 'lab/submissions/my+run%2B%281%29%27s+submit.json')
  t.is(event.Records[0].s3.object.size, 42)
  t.is(event.Records[0].eventName, 'ObjectCreated:Put')
  t.is(decodeEventKey(event.Records[0].s3.object.key), key)
  t.like(uploadsOf(event)[0], {bucket: 'dlc', key, eventName: 'ObjectCreated:Put'})
  const removed: Json = await generateEvent('s3-delete', {bucket: 'dlc', key: 'lab/inputs/a b.mp4'})
  t.like(removed.Records[0], {eventName: 'ObjectRemoved:Delete', s3: {object: {key: 'lab/inputs/a+b.mp4'}}})
})

test('ec2-state-change and ssm-command-status: the monitor finds the instance; the time is the event time', async (t) => {
  const now = new Date(Date.now() + 3_600_000)
  const state: Json = await generateEvent('ec2-state-change', {instanceId: 'i-0abc', state: 'stopped', now})
  t.like(state, {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    detail: {'instance-id': 'i-0abc', state: 'stopped'},
  })
  t.deepEqual(instancesOf(state), ['i-0abc'])
  t.is(eventNow(state).getTime(), Math.floor(now.getTime() / 1000) * 1000)
  const ssm: Json = await generateEvent('ssm-command-status', {instanceId: 'i-0abc', commandId: 'c-1', status: 'Failed'})
  t.like(ssm, {
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    detail: {'command-id': 'c-1', status: 'Failed'},
  })
  t.deepEqual(instancesOf(ssm), ['i-0abc'])
  t.is(instancesOf(await generateEvent('schedule', {})), undefined, 'a schedule: every active instance')
})

test('cfn-create/update/delete: custom-resource requests of the folders resource', async (t) => {
  const create: Json = await generateEvent('cfn-create', {bucket: 'dlc', groups: ['a', 'b'], responseUrl: 'http://127.0.0.1:1/x'})
  t.like(create, {RequestType: 'Create', ResponseURL: 'http://127.0.0.1:1/x', ResourceProperties: {BucketName: 'dlc', Groups: ['a', 'b']}})
  t.false('PhysicalResourceId' in create)
  const update: Json = await generateEvent('cfn-update', {bucket: 'dlc'})
  t.like(update, {RequestType: 'Update', PhysicalResourceId: 'dlc-bucket-folders'})
  t.truthy(update.OldResourceProperties)
  t.like(await generateEvent('cfn-delete', {stack: 'my-stack'}), {RequestType: 'Delete'})
  t.regex(((await generateEvent('cfn-delete', {stack: 'my-stack'})) as Json).StackId, /:stack\/my-stack\//)
})

test('the CLI prints the event; unknown types and states are usage errors (exit 2)', async (t) => {
  const ok = await runCli(['generate-event', 'ec2-state-change', '--instance-id', 'i-0def', '--state', 'terminated'])
  t.is(ok.code, 0, ok.stderr)
  t.like(JSON.parse(ok.stdout), {detail: {'instance-id': 'i-0def', state: 'terminated'}})
  const badType = await runCli(['generate-event', 's3-get'])
  t.is(badType.code, 2)
  const badState = await runCli(['generate-event', 'ec2-state-change', '--state', 'sleeping'])
  t.is(badState.code, 2)
  t.regex(badState.stderr, /sleeping/)
})
