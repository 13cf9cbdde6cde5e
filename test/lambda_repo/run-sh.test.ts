/**
 * The scaffold's run.sh as the submit handler calls it (NeuroCAAS's and the
 * seed's COMMAND values), against moto_server with AWS CLI v1 through
 * AWS_ENDPOINT_URL: results under <group>/<third value>/process_results/, and a
 * power-off after it exits. The host's poweroff cannot run here: a stand-in
 * `poweroff` first on PATH records that it was called (said in the titles).
 */
import {spawn} from 'node:child_process'
import {chmod, mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {fillCommand} from '../../lambda_repo/lib/command.js'
import {jobPaths} from '../../lambda_repo/lib/layout.js'
import {repoRoot} from '../helpers/cli.js'
import {hasMoto, type RunningMoto, startMoto} from '../helpers/moto.js'

const image = join(repoRoot, 'templates', 'pipeline', 'image')
let moto: RunningMoto | undefined
let s3: S3Client

test.before(async () => {
  if (!hasMoto()) return
  moto = await startMoto()
  s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
})
test.after.always(() => moto?.stop())
const withMoto = hasMoto() ? test.serial : test.skip

async function shell(command: string, env: Record<string, string>): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', command], {
      cwd: image,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: moto!.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => {
      stdout += c
    })
    child.stderr.on('data', (c) => {
      stderr += c
    })
    child.on('error', fail)
    child.on('close', (code) => done({code: code ?? -1, stdout, stderr}))
  })
}

/** A folder with a stand-in `poweroff` that writes a marker, for PATH. */
async function fakePoweroff(): Promise<{bin: string; marker: string}> {
  const bin = await mkdtemp(join(tmpdir(), 'ncap-poweroff-'))
  const marker = join(bin, 'powered-off')
  await writeFile(join(bin, 'poweroff'), `#!/bin/bash\necho "$(date +%s%N)" > ${JSON.stringify(marker)}\n`)
  await chmod(join(bin, 'poweroff'), 0o755)
  return {bin, marker}
}

const waitFor = async (check: () => Promise<boolean>, ms = 5000) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

withMoto(
  'the seed COMMAND filled by the submit handler: results go to <group>/<OUTDIR>/<job>/process_results/ (stand-in poweroff called after exit)',
  async (t) => {
    const bucket = 'runsh-seed'
    await s3.send(new CreateBucketCommand({Bucket: bucket}))
    await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/inputs/v.mp4', Body: 'video'}))
    await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/configs/c.yaml', Body: 'x: 1\n'}))
    const job = jobPaths(bucket, 'lab', 'results', 'job__runsh-seed_1')
    // The seed's COMMAND starts with `cd ../../../home/ubuntu`; here the image folder is the working directory.
    const command = fillCommand('bin/run.sh "{}" "{}" "{}" "{}"', 4, [bucket, 'lab/inputs/v.mp4', job.resultPath, 'lab/configs/c.yaml'])
    t.is(command, 'bin/run.sh "runsh-seed" "lab/inputs/v.mp4" "results/job__runsh-seed_1" "lab/configs/c.yaml"')
    const {bin, marker} = await fakePoweroff()
    const started = Date.now()
    const run = await shell(command, {
      PATH: `${bin}:${process.env.PATH}`,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1',
      NCAP_POWEROFF_DELAY: '0.2',
    })
    t.is(run.code, 0, run.stderr)
    const listed = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'lab/'}))
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort()
    t.deepEqual(
      keys.filter((k) => k!.startsWith(job.processResults)),
      [`${job.processResults}c.yaml`, `${job.processResults}v.mp4.summary.json`],
    )
    t.true(
      await waitFor(() =>
        readFile(marker, 'utf8').then(
          () => true,
          () => false,
        ),
      ),
      'poweroff was called',
    )
    const at = Number((await readFile(marker, 'utf8')).trim()) / 1e6
    t.true(at >= started, 'after the script started')
  },
)

withMoto(
  'run.sh powers off on failure too, and never off an instance (no metadata endpoint, not EC2) or with NCAP_POWEROFF=never (stand-in poweroff)',
  async (t) => {
    const {bin, marker} = await fakePoweroff()
    const failing = await shell('bin/run.sh b lab/inputs/missing.mp4 results/j', {
      PATH: `${bin}:${process.env.PATH}`,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1',
      NCAP_POWEROFF_DELAY: '0',
    })
    t.not(failing.code, 0)
    t.true(
      await waitFor(() =>
        readFile(marker, 'utf8').then(
          () => true,
          () => false,
        ),
      ),
      'powered off after a failure',
    )

    const other = await fakePoweroff()
    const host = await shell('bin/run.sh b lab/inputs/missing.mp4 results/j', {
      PATH: `${other.bin}:${process.env.PATH}`,
      NCAP_POWEROFF_DELAY: '0',
    })
    t.not(host.code, 0)
    const never = await shell('bin/run.sh b lab/inputs/missing.mp4 results/j', {
      PATH: `${other.bin}:${process.env.PATH}`,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1',
      NCAP_POWEROFF: 'never',
      NCAP_POWEROFF_DELAY: '0',
    })
    t.not(never.code, 0)
    t.false(
      await waitFor(
        () =>
          readFile(other.marker, 'utf8').then(
            () => true,
            () => false,
          ),
        700,
      ),
    )
  },
)
