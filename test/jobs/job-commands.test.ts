/**
 * The user's side of a job through the real CLI on one emulator: init → deploy →
 * submit two datasets as a group's user → logs --follow until the end → results
 * byte-checked → jobs and status → cancel → destroy, and each refusal a user can hit.
 */
import {createHash} from 'node:crypto'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {runCli} from '../helpers/cli.js'

const work = await mkdtemp(join(tmpdir(), 'ncap-jobs-'))
const stateDir = join(work, 'state')
const dir = join(work, 'jobpipe')
const env = {NCAP_HOME: join(work, 'home')}
const ncap = (args: string[], timeoutMs = 240_000) => runCli(args, {env, timeoutMs, cwd: dir})
const sha = (text: string) => createHash('sha256').update(text).digest('hex')
let jobId = ''

test.before(async () => {
  const started = await runCli(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'], {env})
  if (started.code !== 0) throw new Error(`emulator did not start: ${started.stderr}`)
  const init = await runCli(['init', dir, '--name', 'jobpipe', '--group', 'lab:alice', '--group', 'other:carol', '--yes'], {env})
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  await writeFile(join(work, 'a.txt'), 'first dataset\n')
  await writeFile(join(work, 'b.txt'), 'second dataset\n')
})

test.after.always(async () => {
  await runCli(['emulator', 'stop', '--state-dir', stateDir], {env})
})

test.serial('a pipeline not deployed: submit says so and exits 1', async (t) => {
  const result = await ncap(['submit', join(work, 'a.txt'), '--group', 'lab', '--target', 'local', '--state-dir', stateDir])
  t.is(result.code, 1)
  t.regex(result.stderr, /not deployed|does not exist|NoSuchBucket/)
})

test.serial('deploy, then submit two datasets as alice, follow the log to the end, results byte-checked', async (t) => {
  const deployed = await ncap(['deploy', '--state-dir', stateDir, '--yes'])
  t.is(deployed.code, 0, deployed.stderr)
  const submitted = await ncap(['submit', join(work, 'a.txt'), join(work, 'b.txt'), '--group', 'lab', '--json'])
  t.is(submitted.code, 0, submitted.stderr)
  const doc = JSON.parse(submitted.stdout)
  jobId = doc.jobId
  t.regex(jobId, /^job__jobpipe_\d{8}-\d{6}-[a-z0-9]{4}$/)
  t.is(doc.as, 'alice')
  t.deepEqual(doc.datasets, ['lab/inputs/a.txt', 'lab/inputs/b.txt'])
  t.is(doc.config, 'lab/configs/config.yaml')

  const logs = await ncap(['logs', jobId, '--follow'])
  t.is(logs.code, 0, logs.stderr)
  t.regex(logs.stdout, /launched 2 t3\.micro instance/)
  t.regex(logs.stdout, /lab\/inputs\/a\.txt: SUCCESS/)
  t.regex(logs.stdout, /lab\/inputs\/b\.txt: SUCCESS/)
  t.regex(logs.stdout, /end\.txt written/)
  // Each line once.
  const lines = logs.stdout.split('\n').filter((l) => l.includes('launched 2'))
  t.is(lines.length, 1)

  const out = join(work, 'out')
  const results = await ncap(['results', jobId, '--out', out, '--json'])
  t.is(results.code, 0, results.stderr)
  const files = JSON.parse(results.stdout).files as {file: string}[]
  t.true(files.some((f) => f.file.endsWith('a.txt.summary.json')))
  const summary = JSON.parse(await readFile(join(out, 'a.txt.summary.json'), 'utf8'))
  t.is(summary.sha256, sha('first dataset\n'))
  const again = await ncap(['results', jobId, '--out', out])
  t.regex(again.stdout, /already there/)
})

test.serial('jobs and status read the job back', async (t) => {
  const jobs = await ncap(['jobs', '--json'])
  t.is(jobs.code, 0, jobs.stderr)
  const listed = JSON.parse(jobs.stdout).jobs as {jobId: string; outcome: string; instances: string[]}[]
  const job = listed.find((j) => j.jobId === jobId)
  t.truthy(job)
  t.is(job?.outcome, 'succeeded')
  t.is(job?.instances.length, 2)
  const status = await ncap(['status', jobId])
  t.is(status.code, 0, status.stderr)
  t.regex(status.stdout, /succeeded/)
  t.regex(status.stdout, /lab\/inputs\/b\.txt\s+SUCCESS/)
})

test.serial('a file already in inputs with the same content is not sent again', async (t) => {
  const result = await ncap(['submit', join(work, 'a.txt'), '--group', 'lab'])
  t.is(result.code, 0, result.stderr)
  t.regex(result.stderr, /lab\/inputs\/a\.txt: already there with the same content, not sent/)
  t.regex(result.stderr, /lab\/configs\/config\.yaml: already there/)
})

test.serial('refusals: another group, a missing file, a missing job, a bad target', async (t) => {
  const other = await ncap(['submit', join(work, 'a.txt'), '--group', 'other', '--as-user', 'alice'])
  t.is(other.code, 1)
  t.regex(other.stderr, /alice may not upload into s3:\/\/jobpipe\/other\/inputs\/a\.txt: refused by their IAM policy/)
  const missing = await ncap(['submit', join(work, 'nope.txt'), '--group', 'lab'])
  t.is(missing.code, 2)
  t.regex(missing.stderr, /nope\.txt: no such file/)
  const noGroup = await ncap(['submit', join(work, 'a.txt')])
  t.is(noGroup.code, 2)
  t.regex(noGroup.stderr, /--group/)
  const noJob = await ncap(['results', 'job__jobpipe_nothing'])
  t.is(noJob.code, 1)
  t.regex(noJob.stderr, /no job job__jobpipe_nothing/)
  const badTarget = await ncap(['jobs', '--target', 'nowhere'])
  t.is(badTarget.code, 2)
})

test.serial('cancel: the instances are terminated, the job ends cancelled, the certificate says who', async (t) => {
  // The image is the pipeline's own folder, live on the emulator: make its analysis slow enough to cancel.
  const script = join(dir, 'image', 'bin', 'run.sh')
  const original = await readFile(script, 'utf8')
  await writeFile(script, original.replace('set -euo pipefail\n', 'set -euo pipefail\nsleep 120\n'))
  try {
    const submitted = await ncap(['submit', join(work, 'b.txt'), '--group', 'lab', '--json'])
    t.is(submitted.code, 0, submitted.stderr)
    const id = JSON.parse(submitted.stdout).jobId
    // Wait until the job is running (its command sent) before cancelling it.
    for (let i = 0; i < 120; i++) {
      const status = JSON.parse((await ncap(['status', id, '--json'])).stdout || '{}')
      if (status.datasets?.[0]?.status === 'IN PROGRESS') break
      await new Promise((done) => setTimeout(done, 500))
    }
    const cancelled = await ncap(['cancel', id, '--json'])
    t.is(cancelled.code, 0, cancelled.stderr)
    const doc = JSON.parse(cancelled.stdout)
    t.is(doc.outcome, 'cancelled')
    const logs = await ncap(['logs', id])
    t.regex(logs.stdout, /cancel/i)
    // S3 names the uploader by its principal id (AWS:AIDA…), as on AWS.
    t.regex(logs.stdout, /CANCELLED by AWS:AIDA\w+/)
  } finally {
    await writeFile(script, original)
  }
})

test.serial('destroy removes the pipeline', async (t) => {
  const result = await ncap(['destroy', '--yes'])
  t.is(result.code, 0, result.stderr)
})
