/**
 * `ncap cleanup` on a seeded mess on the emulator: stray job rules, volumes and
 * security groups beside in-use ones and ones that are not this pipeline's. The
 * dry run lists exactly the strays and changes nothing, --older-than filters,
 * --yes removes exactly those (in dependency order) and leaves the rest.
 */
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation'
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
} from '@aws-sdk/client-ec2'
import {EventBridgeClient, ListRulesCommand, PutRuleCommand, PutTargetsCommand} from '@aws-sdk/client-eventbridge'
import {CreateBucketCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {jobId, jobRuleName} from '../../lambda_repo/lib/layout.js'
import {type CleanupResult, cleanup, parseAge} from '../../src/cleanup/index.js'
import {type RunningServer, startServer} from '../../src/emulator/server.js'
import {registerImage} from '../../src/emulator/services/ec2/images.js'
import {jobContext} from '../../src/jobs/context.js'
import {jobRulePrefix} from '../../src/template/names.js'
import {makeImageFolder} from '../emulator/ec2/helpers.js'
import {runCli} from '../helpers/cli.js'

const P = 'cleanpipe'
const prefix = jobRulePrefix(P)
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const monitorArn = `arn:aws:lambda:us-east-1:000000000000:function:${P}-MonitorFunction`

let server: RunningServer
let dir = ''
let ec2: EC2Client
let events: EventBridgeClient
let s3: S3Client

/** What each seeded resource is called, and which ones are stray. */
const seeded = {
  rules: {} as Record<string, string>,
  volumes: {} as Record<string, string>,
  groups: {} as Record<string, string>,
  instances: {} as Record<string, string>,
}
let strays: string[] = []
let oldStrays: string[] = []

const recent = (suffix: string) => {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-')
  return `${stamp}-${suffix}`
}

async function launch(job: string, groupIds?: string[]): Promise<string> {
  const tags = [
    {Key: 'pipeline', Value: P},
    {Key: 'group', Value: 'lab'},
    {Key: 'job', Value: job},
    {Key: 'dataset', Value: 'lab/inputs/video.mp4'},
    {Key: 'timeout', Value: '60'},
  ]
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      ...(groupIds ? {SecurityGroupIds: groupIds} : {}),
      TagSpecifications: [
        {ResourceType: 'instance', Tags: tags},
        {ResourceType: 'volume', Tags: tags},
      ],
    }),
  )
  return out.Instances![0]!.InstanceId!
}

async function rule(name: string, instances: string[], options: {target?: boolean; job?: string} = {}): Promise<void> {
  await events.send(
    new PutRuleCommand({
      Name: name,
      ...(options.job ? {Description: `ncap job ${options.job}: its instances' state changes and commands`} : {}),
      EventPattern: JSON.stringify({source: ['aws.ec2'], detail: {'instance-id': instances}}),
    }),
  )
  if (options.target !== false) await events.send(new PutTargetsCommand({Rule: name, Targets: [{Id: 'monitor', Arn: monitorArn}]}))
}

async function group(name: string, description: string): Promise<string> {
  const out = await ec2.send(new CreateSecurityGroupCommand({GroupName: name, Description: description}))
  return out.GroupId!
}

let imageId = ''

test.before(async () => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-cleanup-'))
  const stateDir = join(work, 'state')
  dir = join(work, P)
  const init = await runCli(['init', dir, '--name', P, '--group', 'lab:alice', '--json'], {env: {CI: 'true'}})
  if (init.code !== 0) throw new Error(`ncap init failed: ${init.stderr}`)
  imageId = (await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'cleanup-image'})).ImageId
  server = await startServer({stateDir, port: 0, log: () => {}})
  await writeFile(join(dir, 'ncap-deploy.json'), JSON.stringify({target: 'local', endpointUrl: server.endpoint}))
  const config = {region: 'us-east-1', endpoint: server.endpoint, credentials, maxAttempts: 1}
  ec2 = new EC2Client(config)
  events = new EventBridgeClient(config)
  s3 = new S3Client({...config, forcePathStyle: true})
  await s3.send(new CreateBucketCommand({Bucket: P}))

  // Security groups.
  const g = seeded.groups
  g.ncapUnused = await group(`${P}-JobSecurityGroup-1A2B3C`, `ncap ${P} job instances: no inbound access`)
  g.wizard1 = await group('launch-wizard-1', 'launch-wizard-1 created 2020-01-01T00:00:00Z')
  g.wizard2 = await group('launch-wizard-2', 'launch-wizard-2 created 2020-01-01T00:00:00Z')
  g.wizard3 = await group('launch-wizard-3', 'launch-wizard-3 created 2020-01-01T00:00:00Z')
  g.web = await group('web-servers', 'the lab web server')
  g.unrelated = await group('unrelated-unused', 'somebody else')
  g.otherNcap = await group('otherpipe-JobSecurityGroup-9Z', 'ncap otherpipe job instances: no inbound access')
  g.tagged = (
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `${P}-scratch`,
        Description: 'made by hand for a test job',
        TagSpecifications: [{ResourceType: 'security-group', Tags: [{Key: 'pipeline', Value: P}]}],
      }),
    )
  ).GroupId!
  // The live stack's own instance group: unused, but the stack's, so it stays.
  const cfn = new CloudFormationClient(config)
  const template = {
    Resources: {
      JobSecurityGroup: {Type: 'AWS::EC2::SecurityGroup', Properties: {GroupDescription: `ncap ${P} job instances: no inbound access`}},
    },
  }
  await cfn.send(new CreateStackCommand({StackName: P, TemplateBody: JSON.stringify(template)}))
  await waitUntilStackCreateComplete({client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1}, {StackName: P})
  const {StackResources} = await cfn.send(new DescribeStackResourcesCommand({StackName: P}))
  g.stack = StackResources!.find((x) => x.LogicalResourceId === 'JobSecurityGroup')!.PhysicalResourceId!
  // A stray group whose rule references another stray group: revoked first, then both go.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g.wizard1,
      IpPermissions: [{IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{GroupId: g.ncapUnused}]}],
    }),
  )
  // A group that stays references launch-wizard-3: it stays.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: g.web,
      IpPermissions: [{IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{GroupId: g.wizard3}]}],
    }),
  )

  // Instances: one to terminate, one running (in launch-wizard-2), one stopped.
  const jobA = jobId(P, '20200101-000000-aaaa')
  const jobD = jobId(P, recent('dddd'))
  const jobE = jobId(P, '20200105-000000-eeee')
  const i = seeded.instances
  ;[i.terminated, i.running, i.stopped] = await Promise.all([launch(jobA), launch(jobD, [g.wizard2]), launch(jobE)])
  const waiter = {client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1}
  await waitUntilInstanceRunning(waiter, {InstanceIds: [i.terminated!, i.running!, i.stopped!]})
  await ec2.send(new TerminateInstancesCommand({InstanceIds: [i.terminated!]}))
  await ec2.send(new StopInstancesCommand({InstanceIds: [i.stopped!]}))
  await waitUntilInstanceTerminated(waiter, {InstanceIds: [i.terminated!]})
  await waitUntilInstanceStopped(waiter, {InstanceIds: [i.stopped!]})

  // Volumes: the roots of the running and stopped instances, an available job volume, an untagged one.
  const {Reservations} = await ec2.send(new DescribeInstancesCommand({InstanceIds: [i.running!, i.stopped!]}))
  const root = (id: string) =>
    Reservations!.flatMap((r) => r.Instances!).find((x) => x.InstanceId === id)!.BlockDeviceMappings![0]!.Ebs!.VolumeId!
  const v = seeded.volumes
  v.runningRoot = root(i.running!)
  v.stoppedRoot = root(i.stopped!)
  const tags = [
    {Key: 'pipeline', Value: P},
    {Key: 'job', Value: jobA},
    {Key: 'Name', Value: 'left-over scratch'},
  ]
  v.available = (
    await ec2.send(
      new CreateVolumeCommand({AvailabilityZone: 'us-east-1a', Size: 1, TagSpecifications: [{ResourceType: 'volume', Tags: tags}]}),
    )
  ).VolumeId!
  v.untagged = (await ec2.send(new CreateVolumeCommand({AvailabilityZone: 'us-east-1a', Size: 1}))).VolumeId!

  // Rules.
  const r = seeded.rules
  r.terminated = jobRuleName(prefix, '20200101-000000-aaaa')
  await rule(r.terminated, [i.terminated!], {job: jobA})
  const jobB = jobId(P, recent('bbbb'))
  r.noTarget = jobRuleName(prefix, jobB.slice(jobB.lastIndexOf('_') + 1))
  await rule(r.noTarget, [i.running!], {job: jobB, target: false})
  const jobC = jobId(P, '20200102-000000-cccc')
  r.ended = jobRuleName(prefix, '20200102-000000-cccc')
  // Its instance still runs, but the job wrote end.txt: finished.
  await rule(r.ended, [i.running!], {job: jobC})
  await s3.send(new PutObjectCommand({Bucket: P, Key: `lab/results/${jobC}/process_results/end.txt`, Body: 'done\n'}))
  r.inUse = jobRuleName(prefix, jobD.slice(jobD.lastIndexOf('_') + 1))
  await rule(r.inUse, [i.running!], {job: jobD})
  r.otherPipeline = jobRuleName(jobRulePrefix('otherpipe'), '20200101-000000-ffff')
  await rule(r.otherPipeline, [i.terminated!], {job: jobId('otherpipe', '20200101-000000-ffff'), target: false})
  r.managedLooking = 'AutoScalingManagedRule'
  await rule(r.managedLooking, [i.terminated!], {target: false})

  strays = [r.terminated, r.noTarget, r.ended, v.available, v.stoppedRoot, g.ncapUnused, g.wizard1, g.tagged].sort()
  oldStrays = [r.terminated, r.ended].sort()
})

test.after.always(async () => {
  await server?.close()
})

const ids = (items: {id: string}[]) => items.map((c) => c.id).sort()

async function snapshot(): Promise<{rules: string[]; volumes: string[]; groups: string[]}> {
  const rules = (await events.send(new ListRulesCommand({}))).Rules!.map((x) => x.Name!).sort()
  const volumes = (await ec2.send(new DescribeVolumesCommand({}))).Volumes!.map((x) => x.VolumeId!).sort()
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((x) => x.GroupId!).sort()
  return {rules, volumes, groups}
}

test.serial('parses --older-than durations', (t) => {
  t.is(parseAge('30m'), 1_800_000)
  t.is(parseAge('2h'), 7_200_000)
  t.is(parseAge('7d'), 604_800_000)
  t.is(parseAge('1h30m'), 5_400_000)
  t.is(parseAge('soon'), undefined)
  t.is(parseAge('2 hours'), undefined)
})

test.serial('the dry run (ncap cleanup --json) lists exactly the strays, each with why, and changes nothing', async (t) => {
  const before = await snapshot()
  const out = await runCli(['cleanup', '--dir', dir, '--json'])
  t.is(out.code, 0, out.stderr)
  const result = JSON.parse(out.stdout) as CleanupResult
  t.true(result.dryRun)
  t.deepEqual(ids(result.candidates), strays)
  t.deepEqual(result.deleted, [])
  // The reasons from the core in this process (the CLI may run a built dist/ of an earlier commit).
  const direct = await cleanup(await jobContext({dir}), {})
  t.deepEqual(ids(direct.candidates), strays)
  const why = Object.fromEntries(direct.candidates.map((c) => [c.id, c.reason]))
  const {rules: r, volumes: v, groups: g, instances: i} = seeded
  t.regex(why[r.terminated!]!, new RegExp(`${i.terminated} terminated`))
  t.regex(why[r.noTarget!]!, /no target/)
  t.regex(why[r.ended!]!, new RegExp(`end\\.txt exists\\); instance ${i.running} is running`))
  t.regex(why[v.available!]!, /available/)
  t.regex(why[v.stoppedRoot!]!, new RegExp(`stopped job instance ${i.stopped}`))
  t.regex(why[g.wizard1!]!, /launch wizard/)
  t.regex(why[g.ncapUnused!]!, new RegExp(`only stray groups \\(${g.wizard1}\\)`))
  // What stays is said, with why; what is not this pipeline's (or a wizard's) is not even listed.
  const kept = Object.fromEntries(direct.kept.map((k) => [k.id, k.reason]))
  t.regex(kept[r.inUse!]!, new RegExp(`in use: instance ${i.running} is running`))
  t.regex(kept[v.runningRoot!]!, /in use/)
  t.regex(kept[g.wizard2!]!, new RegExp(`in use by instance ${i.running}`))
  t.regex(why[g.tagged!]!, /tagged pipeline=cleanpipe/)
  t.regex(kept[g.stack!]!, /a resource of the live stack cleanpipe/)
  t.regex(kept[g.wizard3!]!, new RegExp(`referenced by a rule of security group ${g.web}`))
  for (const id of [r.otherPipeline, r.managedLooking, v.untagged, g.web, g.unrelated, g.otherNcap])
    t.false(id! in kept || id! in why, `${id} is not this pipeline's`)
  t.deepEqual(await snapshot(), before)
})

test.serial('the dry run in words: each candidate with why, what is kept, and how to delete', async (t) => {
  const out = await runCli(['cleanup', '--dir', dir, '--rules', '--security-groups'])
  t.is(out.code, 0, out.stderr)
  t.regex(out.stdout, /6 stray resource\(s\) of pipeline cleanpipe \(rule, security-group\):/)
  t.regex(out.stdout, new RegExp(`rule +${seeded.rules.noTarget}: the rule has no target`))
  t.regex(out.stdout, new RegExp(`security-group +${seeded.groups.wizard1} \\(launch-wizard-1\\): a launch wizard group`))
  t.regex(out.stdout, /Dry run: nothing was deleted\. Run again with --yes to delete these\./)
  t.regex(out.stdout, new RegExp(`Kept \\d+:[^]*${seeded.rules.inUse}: in use`))
  t.notRegex(out.stdout, /volume +vol-/)
  const help = await runCli(['cleanup', '--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /--older-than/)
  t.regex(help.stdout, /cleanup --rules --older-than 2h --yes/)
})

test.serial('the dry run pages through every list (the smallest pages each service allows) with the same answer', async (t) => {
  const ctx = await jobContext({dir})
  const result = await cleanup(ctx, {pageSize: 1})
  t.deepEqual(ids(result.candidates), strays)
})

test.serial('--older-than keeps the younger candidates and those of unknown age', async (t) => {
  const ctx = await jobContext({dir})
  const result = await cleanup(ctx, {olderThan: '1h'})
  t.deepEqual(ids(result.candidates), oldStrays)
  const kept = Object.fromEntries(result.kept.map((k) => [k.id, k.reason]))
  t.regex(kept[seeded.rules.noTarget!]!, /younger than 1h/)
  t.regex(kept[seeded.volumes.available!]!, /younger than 1h/)
  t.regex(kept[seeded.groups.wizard1!]!, /age is unknown/)
  const onlyRules = await cleanup(ctx, {rules: true, olderThan: '1h'})
  t.deepEqual(onlyRules.kinds, ['rule'])
  t.deepEqual(ids(onlyRules.candidates), oldStrays)
  const bad = await runCli(['cleanup', '--dir', dir, '--older-than', 'soon'])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /not a duration/)
  const nowhere = await runCli(['cleanup', '--dir', join(dir, '..'), '--json'])
  t.is(nowhere.code, 2)
  t.regex((JSON.parse(nowhere.stdout) as {error: {message: string}}).error.message, /no stack_config_template\.json/)
})

test.serial("--older-than reads the emulator's clock: advanced 2h, the fresh volumes are old enough", async (t) => {
  const {callControl} = await import('../../src/emulator/services/ncap/client.js')
  await callControl(server.endpoint, 'AdvanceClock', {Milliseconds: 2 * 3_600_000})
  const ctx = await jobContext({dir})
  const result = await cleanup(ctx, {volumes: true, olderThan: '1h'})
  t.deepEqual(ids(result.candidates), [seeded.volumes.available!, seeded.volumes.stoppedRoot!].sort())
  t.deepEqual(
    result.kept.filter((k) => /younger/.test(k.reason)),
    [],
  )
})

test.serial('--yes removes exactly the strays, in dependency order, and leaves the rest', async (t) => {
  const before = await snapshot()
  const out = await runCli(['cleanup', '--dir', dir, '--yes'])
  t.is(out.code, 0, out.stderr)
  t.regex(out.stdout, /Deleted 8 of 8 stray resource\(s\) of pipeline cleanpipe/)
  t.regex(out.stdout, new RegExp(`deleted rule ${seeded.rules.terminated}: removed 1 target\\(s\\): monitor, deleted the rule`))
  t.regex(
    out.stdout,
    new RegExp(`deleted volume ${seeded.volumes.stoppedRoot}: detached from ${seeded.instances.stopped}, deleted the volume`),
  )
  t.regex(
    out.stdout,
    new RegExp(
      `deleted security-group ${seeded.groups.wizard1} \\(launch-wizard-1\\): revoked its inbound rules referencing ${seeded.groups.ncapUnused}, deleted the group`,
    ),
  )
  const after = await snapshot()
  const gone = [...before.rules, ...before.volumes, ...before.groups].filter(
    (id) => !after.rules.includes(id) && !after.volumes.includes(id) && !after.groups.includes(id),
  )
  t.deepEqual(gone.sort(), strays)
  const again = await cleanup(await jobContext({dir}), {})
  t.deepEqual(again.candidates, [])
})
