/**
 * `ncap trace` through the real CLI against one embedded emulator (a child
 * process): init → deploy → a job submitted as the group's user → end.txt →
 * the trace shows every link of the chain in order; an upload under a prefix no
 * notification watches shows the notification missing with the emulator's
 * reason; an unknown job exits 1.
 */
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HeadObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {runCli} from '../helpers/cli.js'

const work = await mkdtemp(join(tmpdir(), 'ncap-trace-'))
const stateDir = join(work, 'state')
const dir = join(work, 'tracepipe')
const home = join(work, 'home')
const env = {NCAP_HOME: home, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config')}
const ncap = (args: string[], timeoutMs = 120_000) => runCli(args, {env, timeoutMs, cwd: dir})
let endpoint = ''
let jobId = ''
let endKey = ''

interface Line {
  type: 'link' | 'missing' | 'summary'
  kind?: string
  outcome?: string
  summary?: string
  reason?: string
  time?: string
  elapsedMs?: number
  durationMs?: number
  [key: string]: unknown
}

const parseLines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)

test.before(async () => {
  const started = await runCli(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'], {env})
  if (started.code !== 0) throw new Error(`emulator did not start: ${started.stderr}`)
  endpoint = JSON.parse(started.stdout).endpoint
  const init = await runCli(['init', dir, '--name', 'tracepipe', '--region', 'us-east-1', '--group', 'lab:alice', '--yes'], {env})
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  const deployed = await ncap(['deploy', '--state-dir', stateDir, '--yes'], 180_000)
  if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`)
  // The job, submitted as alice (the group's first user) the way `ncap submit` does it.
  Object.assign(process.env, env)
  const data = join(work, 'session1.txt')
  await writeFile(data, 'one small dataset\n')
  const {submitJob} = await import('../../src/jobs/submit.js')
  const submitted = await submitJob({items: [data], dir})
  jobId = submitted.jobId
  endKey = `lab/results/${jobId}/process_results/end.txt`
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  const deadline = Date.now() + 120_000
  for (;;) {
    const there = await s3.send(new HeadObjectCommand({Bucket: 'tracepipe', Key: endKey})).then(
      () => true,
      () => false,
    )
    if (there) break
    if (Date.now() > deadline) throw new Error(`${endKey} did not appear within 120 s`)
    await new Promise((r) => setTimeout(r, 500))
  }
  // An upload the notification does not watch: it makes no job.
  await s3.send(
    new PutObjectCommand({
      Bucket: 'tracepipe',
      Key: 'lab/inputs/x_submit.json',
      Body: JSON.stringify({dataname: 'lab/inputs/session1.txt', configname: 'lab/configs/config.yaml', timestamp: '20990101-000000-none'}),
    }),
  )
  // The monitor's last runs (after end.txt) and the record's flush.
  await new Promise((r) => setTimeout(r, 1500))
})

test.after.always(async () => {
  await runCli(['emulator', 'stop', '--state-dir', stateDir], {env})
})

test.serial('trace --json: every link of the chain, in order, as typed lines, and nothing missing', async (t) => {
  const result = await ncap(['trace', jobId, '--json'])
  t.is(result.code, 0, result.stderr)
  const lines = parseLines(result.stdout)
  const links = lines.filter((l) => l.type === 'link')
  const summary = lines.at(-1)!
  t.is(summary.type, 'summary')
  t.like(summary, {jobId, group: 'lab', target: 'local', from: 'emulator', complete: true, missing: 0, outcome: 'succeeded'})
  t.deepEqual(
    lines.filter((l) => l.type === 'missing'),
    [],
  )
  const at = (test: (l: Line) => boolean, what: string): number => {
    const i = links.findIndex(test)
    t.true(i >= 0, `${what} is in the trace:\n${result.stdout}`)
    return i
  }
  const order = [
    at((l) => l.kind === 'upload' && /_submit\.json uploaded/.test(l.summary!), 'the upload'),
    at((l) => l.kind === 'notification' && l.outcome === 'delivered' && /tracepipe-submit/.test(l.summary!), 'the notification delivered'),
    at((l) => l.kind === 'submit' && l.outcome === 'ok', 'the submit invoke'),
    at((l) => l.kind === 'instance' && /pending$/.test(l.summary!), 'pending'),
    at((l) => l.kind === 'ssm' && /SendCommand/.test(l.summary!), 'the command sent'),
    at((l) => l.kind === 'ssm' && /: Success$/.test(l.summary!) && l.outcome === 'ok', 'the command Success'),
    at((l) => l.kind === 'instance' && /→ shutting-down$/.test(l.summary!), 'shutting-down'),
    at((l) => l.kind === 'instance' && /→ terminated$/.test(l.summary!), 'terminated'),
    at((l) => l.kind === 'end', 'end.txt'),
  ]
  t.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    `the links are in the chain order:\n${links.map((l) => `${l.time} ${l.kind} ${l.outcome} ${l.summary}`).join('\n')}`,
  )
  // The running transition and SendCommand land within the same few milliseconds (the submit handler sends as soon
  // as DescribeInstances says running): only their order against the launch and the command's end is fixed.
  const running = at((l) => l.kind === 'instance' && /→ running$/.test(l.summary!), 'running')
  t.true(order[3]! < running && running < order[5]!, 'running comes after pending and before the command succeeds')
  // The rule matched the job's events and the monitor ran for them.
  t.true(links.some((l) => l.kind === 'rule' && l.outcome === 'ok'))
  const monitors = links.filter((l) => l.kind === 'monitor' && l.outcome === 'ok')
  t.true(monitors.length >= 2, 'the monitor ran for the command and the state changes')
  // The job's rule matches the instance's own state changes too, so a monitor run may come before SendCommand;
  // each comes after the launch, and one comes after the command's end (the run that marks the dataset).
  t.true(links.indexOf(monitors[0]!) > order[3]!, 'the first monitor run follows the launch')
  t.true(
    monitors.some((m) => links.indexOf(m) > order[5]!),
    'a monitor run follows the command',
  )
  // Times: increasing, elapsed from the upload, durations on the function runs.
  t.is(links[0]!.elapsedMs, 0)
  for (let i = 1; i < links.length; i++) t.true(Date.parse(links[i]!.time!) >= Date.parse(links[i - 1]!.time!))
  t.true(links.every((l) => typeof l.elapsedMs === 'number' && l.elapsedMs! >= 0))
  t.true(typeof links[order[2]!]!.durationMs === 'number')
  t.true((summary.durationMs as number) >= links[order[8]!]!.elapsedMs!)
})

test.serial('trace (human): one line per link with time, +elapsed, kind and outcome', async (t) => {
  const result = await ncap(['trace'])
  t.is(result.code, 0, result.stderr)
  t.regex(result.stdout, new RegExp(`Job ${jobId} — group lab, target local`))
  t.regex(result.stdout, /^\d\d:\d\d:\d\d\.\d{3}\s+\+0ms\s+upload\s+ok\s+s3:\/\/tracepipe\/lab\/submissions\/.*_submit\.json uploaded$/m)
  t.regex(result.stdout, /\+[\d.]+(ms|s)\s+notification delivered /)
  t.regex(result.stdout, /submit\s+ok\s+tracepipe-submit answered in .* \[[\d.]+m?s\]/)
  t.regex(result.stdout, /end\s+ok\s+s3:\/\/tracepipe\/lab\/results\/.*\/end\.txt written/)
  t.regex(result.stdout, /every link happened; job succeeded/)
  t.notRegex(result.stdout, /Missing:/)
})

test.serial('an upload no notification watches: the notification missing with the emulator reason', async (t) => {
  const result = await ncap(['trace', '--key', 'lab/inputs/x_submit.json', '--json'])
  t.is(result.code, 0, result.stderr)
  const lines = parseLines(result.stdout)
  t.like(lines[0], {type: 'link', kind: 'upload', outcome: 'ok'})
  t.like(lines[1], {type: 'link', kind: 'notification', outcome: 'skipped'})
  const missing = lines.filter((l) => l.type === 'missing')
  t.deepEqual(
    missing.map((m) => m.kind),
    ['notification', 'submit', 'job'],
  )
  t.regex(missing[0]!.reason!, /no notification rule matched: tried .*prefix 'lab\/submissions\/', suffix 'submit\.json'/)
  t.regex(missing[1]!.reason!, /the notification did not reach it/)
  t.like(lines.at(-1), {type: 'summary', submitKey: 'lab/inputs/x_submit.json', complete: false, missing: 3})
  t.is(lines.at(-1)!.jobId, undefined)

  const human = await ncap(['trace', '--key', 'lab/inputs/x_submit.json'])
  t.is(human.code, 0, human.stderr)
  t.regex(human.stdout, /Upload lab\/inputs\/x_submit\.json \(no job\)/)
  t.regex(
    human.stdout,
    /Missing:\n\s+notification\s+no notification of s3:\/\/tracepipe\/lab\/inputs\/x_submit\.json reached the submit function — no notification rule matched/,
  )
})

test.serial('a job that does not exist exits 1 naming it; so does a key that does not exist', async (t) => {
  const result = await ncap(['trace', 'job__tracepipe_20000101-000000-none'])
  t.is(result.code, 1)
  t.regex(result.stderr, /no job job__tracepipe_20000101-000000-none in pipeline tracepipe/)
  const json = await ncap(['trace', 'job__tracepipe_20000101-000000-none', '--json'])
  t.is(json.code, 1)
  t.is(JSON.parse(json.stdout).error.code, 'NoSuchJob')
  const key = await ncap(['trace', '--key', 'lab/submissions/none_submit.json'])
  t.is(key.code, 1)
  t.regex(key.stderr, /s3:\/\/tracepipe\/lab\/submissions\/none_submit\.json does not exist/)
})

test.serial('off the emulator record (--endpoint-url): the links from the job records, CloudWatch Logs and EC2', async (t) => {
  const result = await runCli(['trace', jobId, '--endpoint-url', endpoint, '--json'], {
    env: {...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test'},
    cwd: dir,
  })
  t.is(result.code, 0, result.stderr)
  const lines = parseLines(result.stdout)
  const links = lines.filter((l) => l.type === 'link')
  t.like(lines.at(-1), {type: 'summary', jobId, from: 'records', target: 'endpoint', complete: true, missing: 0})
  const sources = (kind: string) => links.filter((l) => l.kind === kind).map((l) => l.source)
  t.deepEqual(sources('upload'), ['s3'])
  t.true(sources('submit').includes('logs'), 'the submit run from its log group')
  t.true(sources('submit-step').length >= 3, "the submit handler's steps from job.json")
  t.true(sources('instance').includes('ec2'), 'the instance as EC2 describes it')
  t.true(sources('monitor').includes('logs'), "the monitor's runs from its log group")
  t.true(links.some((l) => l.kind === 'ssm' && /SUCCESS/.test(l.summary!)))
  t.deepEqual(sources('end'), ['s3'])
  t.true(links.findIndex((l) => l.kind === 'upload') < links.findIndex((l) => l.kind === 'end'))
})

test.serial('a notification refused by the function policy: missing, with the permission the emulator names', async (t) => {
  const {GetPolicyCommand, LambdaClient, RemovePermissionCommand} = await import('@aws-sdk/client-lambda')
  const config = {region: 'us-east-1', endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}
  const lambda = new LambdaClient(config)
  const policy = JSON.parse((await lambda.send(new GetPolicyCommand({FunctionName: 'tracepipe-submit'}))).Policy!)
  for (const statement of policy.Statement as {Sid: string; Principal?: {Service?: string}}[])
    if (statement.Principal?.Service === 's3.amazonaws.com')
      await lambda.send(new RemovePermissionCommand({FunctionName: 'tracepipe-submit', StatementId: statement.Sid}))
  const s3 = new S3Client({...config, forcePathStyle: true})
  const key = 'lab/submissions/20990101-000001-deny_submit.json'
  await s3.send(
    new PutObjectCommand({
      Bucket: 'tracepipe',
      Key: key,
      Body: JSON.stringify({dataname: 'lab/inputs/session1.txt', configname: 'lab/configs/config.yaml', timestamp: '20990101-000001-deny'}),
    }),
  )
  let lines: Line[] = []
  for (let i = 0; i < 20; i++) {
    const result = await ncap(['trace', '--key', key, '--json'])
    t.is(result.code, 0, result.stderr)
    lines = parseLines(result.stdout)
    if (lines.some((l) => l.type === 'link' && l.kind === 'notification')) break
    await new Promise((r) => setTimeout(r, 500))
  }
  const missing = lines.filter((l) => l.type === 'missing')
  t.is(missing[0]?.kind, 'notification', JSON.stringify(lines))
  t.regex(missing[0]!.reason!, /missing permission/)
  t.like(lines.at(-1), {type: 'summary', complete: false})
})
