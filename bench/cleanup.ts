/**
 * `ncap cleanup` against a big mess on the emulator, beside a baseline measured
 * in this same run: the bare listing (ListRules, DescribeVolumes,
 * DescribeSecurityGroups, DescribeNetworkInterfaces, each paged) that any
 * cleanup must do at the least. Rows: the dry run's median and its ratio to the
 * baseline, and one --yes deleting every stray, in ms per deleted resource.
 * Figures only, never pass/fail. BENCH_STRAYS (100 of each kind), BENCH_RUNS (5).
 * Run: node --import=tsx bench/cleanup.ts
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fmt, median, printTable} from './measure.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const {EC2Client, CreateSecurityGroupCommand, CreateVolumeCommand, DescribeVolumesCommand, DescribeSecurityGroupsCommand} = await import(
  '@aws-sdk/client-ec2'
)
const {DescribeNetworkInterfacesCommand} = await import('@aws-sdk/client-ec2')
const {EventBridgeClient, ListRulesCommand, PutRuleCommand, PutTargetsCommand} = await import('@aws-sdk/client-eventbridge')
const {S3Client, CreateBucketCommand} = await import('@aws-sdk/client-s3')
const {startServer} = await import('../src/emulator/server.js')
const {cleanup} = await import('../src/cleanup/index.js')
const {jobRuleName} = await import('../lambda_repo/lib/layout.js')
const {jobRulePrefix} = await import('../src/template/names.js')
type Pipeline = import('../src/config/model.js').Pipeline

const STRAYS = Number(process.env.BENCH_STRAYS ?? 100)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const P = 'benchpipe'
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-cleanup-'))
const server = await startServer({stateDir: join(work, 'state'), port: 0, log: () => {}})
const config = {region: 'us-east-1', endpoint: server.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1}
const ec2 = new EC2Client(config)
const events = new EventBridgeClient(config)
const s3 = new S3Client({...config, forcePathStyle: true})
await s3.send(new CreateBucketCommand({Bucket: P}))

const inBatches = async (n: number, work: (i: number) => Promise<unknown>) => {
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({length: Math.min(10, n - i)}, (_, k) => work(i + k)))
}
// Rules: half with no target, half whose only instance is gone.
await inBatches(STRAYS, async (i) => {
  const name = jobRuleName(jobRulePrefix(P), `20200101-000000-${String(i).padStart(4, '0')}`)
  const gone = `i-${(0x1000000000 + i).toString(16).padStart(17, '0')}`
  await events.send(new PutRuleCommand({Name: name, EventPattern: JSON.stringify({source: ['aws.ec2'], detail: {'instance-id': [gone]}})}))
  if (i % 2 === 1)
    await events.send(
      new PutTargetsCommand({Rule: name, Targets: [{Id: 'monitor', Arn: `arn:aws:lambda:us-east-1:000000000000:function:${P}-monitor`}]}),
    )
})
await inBatches(STRAYS, (i) =>
  ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1a',
      Size: 1,
      TagSpecifications: [
        {
          ResourceType: 'volume',
          Tags: [
            {Key: 'pipeline', Value: P},
            {Key: 'job', Value: `job__${P}_${i}`},
          ],
        },
      ],
    }),
  ),
)
await inBatches(STRAYS, (i) =>
  ec2.send(new CreateSecurityGroupCommand({GroupName: `launch-wizard-${i + 1}`, Description: 'launch-wizard'})),
)

const pipeline = {
  name: P,
  region: 'us-east-1',
  groups: [{name: 'lab', userNames: ['alice'], userInput: true}],
  instance: {outDir: 'results'},
} as unknown as Pipeline
const scope = {
  pipeline,
  bucket: P,
  stackName: P,
  target: {kind: 'endpoint' as const, endpoint: server.endpoint, region: 'us-east-1', credentials: config.credentials},
  s3,
}

async function bareListing(): Promise<number> {
  let n = 0
  let token: string | undefined
  do {
    const page = await events.send(new ListRulesCommand({NamePrefix: jobRulePrefix(P), NextToken: token}))
    n += page.Rules?.length ?? 0
    token = page.NextToken
  } while (token)
  for (const Command of [DescribeVolumesCommand, DescribeSecurityGroupsCommand, DescribeNetworkInterfacesCommand] as const) {
    token = undefined
    do {
      const page = (await ec2.send(new (Command as typeof DescribeVolumesCommand)({MaxResults: 500, NextToken: token}))) as {
        NextToken?: string
      }
      token = page.NextToken
      n++
    } while (token)
  }
  return n
}

const time = async (what: () => Promise<unknown>) => {
  const start = performance.now()
  await what()
  return performance.now() - start
}
await bareListing()
await cleanup(scope, {})
const baseline: number[] = []
const dry: number[] = []
let found = 0
for (let i = 0; i < RUNS; i++) {
  baseline.push(await time(bareListing))
  dry.push(
    await time(async () => {
      found = (await cleanup(scope, {})).candidates.length
    }),
  )
}
let deleted = 0
const yes = await time(async () => {
  deleted = (await cleanup(scope, {yes: true})).deleted.length
})
printTable(`ncap cleanup: ${STRAYS} stray rules, volumes and launch-wizard groups each (median of ${RUNS})`, [
  ['measure', 'ms', 'vs baseline'],
  ['bare listing (baseline)', fmt(median(baseline)), '1.0x'],
  [`dry run (${found} candidates)`, fmt(median(dry)), `${fmt(median(dry) / median(baseline))}x`],
  [`--yes (${deleted} deleted), ms per resource`, fmt(yes / Math.max(1, deleted), 2), ''],
  ['--yes total', fmt(yes), ''],
])
await server.close()
await rm(work, {recursive: true, force: true})
