/**
 * The simevents/ templates and fillEvent: placeholders filled into the exact
 * shapes AWS delivers (S3 notification 2.1, CloudFormation custom-resource
 * requests, EventBridge events), for a pipeline made by planScaffold.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import test from 'ava'
import {buildStackConfig, fillEvent, type InitAnswers, planScaffold} from '../../src/config/scaffold.js'
import {repoRoot} from '../helpers/cli.js'

const answers: InitAnswers = {
  name: 'sim-pipe',
  region: 'eu-central-1',
  ami: 'ami-0123456789abcdef0',
  instanceType: 't3.micro',
  command: 'cd /home/ubuntu && bin/run.sh "{}" "{}" "{}" "{}"',
  executionTimeout: 900,
  ssmTimeout: 172000,
  groups: [
    {name: 'labA', users: ['ann']},
    {name: 'labB', users: ['bob']},
  ],
}
const now = new Date('2026-03-04T05:06:07.089Z')

// biome-ignore lint/suspicious/noExplicitAny: filled events are inspected field by field
type Json = any

async function events(): Promise<Record<string, Json>> {
  const files = await planScaffold(answers, await buildStackConfig(answers), now)
  const out: Record<string, Json> = {}
  for (const f of files.filter((f) => f.path.startsWith('simevents/'))) out[f.path.slice('simevents/'.length)] = JSON.parse(f.content)
  return out
}

test("fillEvent: a whole-string placeholder takes the value's type; inside text it is spliced; keys are filled", (t) => {
  const filled = fillEvent(
    {'{{ami}}': 'image', size: '{{size}}', list: '{{groups}}', arn: 'arn:aws:s3:::{{bucket}}', n: 3, b: false, z: null},
    {
      ami: 'ami-1',
      size: 42,
      groups: ['a', 'b'],
      bucket: 'bkt',
    },
  )
  t.deepEqual(filled, {'ami-1': 'image', size: 42, list: ['a', 'b'], arn: 'arn:aws:s3:::bkt', n: 3, b: false, z: null})
})

test('fillEvent: a placeholder without a value, or a list spliced into text, is an error naming it', (t) => {
  t.throws(() => fillEvent({a: 'x-{{missing}}'}, {}), {message: /\{\{missing\}\} has no value/})
  t.throws(() => fillEvent({a: 'x-{{groups}}'}, {groups: ['a']}), {message: /\{\{groups\}\} holds a list/})
})

test('fillEvent does not share filled lists with the values', (t) => {
  const groups = ['a']
  const filled = fillEvent({g: '{{groups}}'}, {groups}) as {g: string[]}
  filled.g.push('b')
  t.deepEqual(groups, ['a'])
})

test('there is one template per event source, and init fills every placeholder of each', async (t) => {
  t.deepEqual((await readdir(join(repoRoot, 'simevents'))).sort(), [
    'cfn-create.json',
    'cfn-delete.json',
    'cfn-update.json',
    'ec2-state-change.json',
    's3-delete.json',
    's3-put.json',
    'schedule.json',
    'ssm-command-status.json',
  ])
  for (const [name, event] of Object.entries(await events())) t.false(JSON.stringify(event).includes('{{'), name)
})

test('s3-put-submit: an S3 2.1 ObjectCreated:Put record of <group>/submissions/submit.json', async (t) => {
  const event = (await events())['s3-put.json']
  t.is(event.Records.length, 1)
  const record = event.Records[0]
  t.deepEqual(Object.keys(record).sort(), [
    'awsRegion',
    'eventName',
    'eventSource',
    'eventTime',
    'eventVersion',
    'requestParameters',
    'responseElements',
    's3',
    'userIdentity',
  ])
  t.like(record, {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-central-1',
    eventTime: '2026-03-04T05:06:07.089Z',
    eventName: 'ObjectCreated:Put',
  })
  t.deepEqual(Object.keys(record.responseElements).sort(), ['x-amz-id-2', 'x-amz-request-id'])
  t.is(record.s3.s3SchemaVersion, '1.0')
  t.like(record.s3.bucket, {name: 'sim-pipe', arn: 'arn:aws:s3:::sim-pipe'})
  t.is(record.s3.object.key, 'labA/submissions/submit.json')
  t.is(typeof record.s3.object.size, 'number')
  t.regex(record.s3.object.eTag, /^[0-9a-f]{32}$/)
  t.regex(record.s3.object.sequencer, /^[0-9A-F]+$/)
})

test('cfn-custom-resource-create/delete: custom-resource requests for the bucket-folders resource', async (t) => {
  const all = await events()
  const create = all['cfn-create.json']
  const remove = all['cfn-delete.json']
  t.is(create.RequestType, 'Create')
  t.is(remove.RequestType, 'Delete')
  t.false('PhysicalResourceId' in create, 'a Create request has no physical id yet')
  t.is(typeof remove.PhysicalResourceId, 'string')
  for (const request of [create, remove]) {
    for (const key of ['RequestType', 'ResponseURL', 'StackId', 'RequestId', 'LogicalResourceId', 'ResourceType', 'ResourceProperties'])
      t.true(key in request, key)
    t.regex(request.ResourceType, /^Custom::[A-Za-z0-9_@-]{1,52}$/)
    t.regex(request.StackId, /^arn:aws:cloudformation:eu-central-1:\d{12}:stack\/sim-pipe\/[0-9a-f-]{36}$/)
    t.regex(request.ResponseURL, /^https:\/\//)
    t.is(request.ResourceProperties.ServiceToken, request.ServiceToken)
    t.regex(request.ServiceToken, /^arn:aws:lambda:eu-central-1:\d{12}:function:sim-pipe-folders$/)
    t.like(request.ResourceProperties, {
      BucketName: 'sim-pipe',
      Groups: ['labA', 'labB'],
      GroupFolders: ['inputs', 'results', 'logs', 'configs', 'submissions'],
      LogFolder: 'logs',
    })
  }
  t.is(create.StackId, remove.StackId)
})

test('ec2-instance-state-change and scheduled-event: EventBridge events with exactly its top-level fields', async (t) => {
  const all = await events()
  const fields = ['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']
  const state = all['ec2-state-change.json']
  t.deepEqual(Object.keys(state).sort(), fields)
  t.like(state, {
    version: '0',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    region: 'eu-central-1',
    time: '2026-03-04T05:06:07Z',
  })
  t.deepEqual(state.detail, {'instance-id': 'i-0123456789abcdef0', state: 'running'})
  t.deepEqual(state.resources, [`arn:aws:ec2:eu-central-1:${state.account}:instance/i-0123456789abcdef0`])
  const scheduled = all['schedule.json']
  t.deepEqual(Object.keys(scheduled).sort(), fields)
  t.like(scheduled, {'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}})
  t.regex(scheduled.resources[0], /^arn:aws:events:eu-central-1:\d{12}:rule\/sim-pipe-MonitorSchedule-[0-9A-F]{12}$/)
  t.regex(state.id, /^[0-9a-f-]{36}$/)
})

test('the templates in simevents/ are what init fills (no second copy)', async (t) => {
  const template = JSON.parse(await readFile(join(repoRoot, 'simevents', 'ec2-state-change.json'), 'utf8'))
  t.is(template.detail.state, '{{state}}')
})
