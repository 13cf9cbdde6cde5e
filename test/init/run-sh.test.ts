/**
 * The scaffold's bin/run.sh, run for real with bash and AWS CLI v1 against
 * moto_server (reached through AWS_ENDPOINT_URL, as on the emulator: the
 * script itself names no endpoint).
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import test from 'ava'
import {repoRoot} from '../helpers/cli.js'
import {type RunningMoto, startMoto} from '../helpers/moto.js'

const runSh = join(repoRoot, 'templates', 'pipeline', 'image', 'bin', 'run.sh')

let moto: RunningMoto | undefined
let endpoint = ''
let s3: S3Client

test.before(async () => {
  moto = await startMoto()
  endpoint = moto.endpoint
  s3 = new S3Client({endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
})

test.after.always(() => moto?.stop())

function runScript(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', [runSh, ...args], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
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
    child.on('error', reject)
    child.on('close', (code) => resolveRun({code: code ?? -1, stdout, stderr}))
  })
}

async function text(bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({Bucket: bucket, Key: key}))
  return out.Body!.transformToString()
}

test('run.sh downloads the input and config, writes size and sha256 to process_results, and uploads them', async (t) => {
  const bucket = 'runsh-happy'
  const video = Buffer.from(Array.from({length: 70_000}, (_, i) => (i * 31) % 251))
  const config = 'threshold: 0.5\n'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/inputs/video.mp4', Body: video}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/configs/config.yaml', Body: config}))

  const run = await runScript([bucket, 'lab/inputs/video.mp4', 'lab/results/job__runsh-happy_1', 'lab/configs/config.yaml'])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /analyzed video\.mp4: 70000 bytes/)

  const summary = JSON.parse(await text(bucket, 'lab/results/job__runsh-happy_1/process_results/video.mp4.summary.json'))
  t.deepEqual(summary, {
    input: 'video.mp4',
    key: 'lab/inputs/video.mp4',
    bytes: 70_000,
    sha256: createHash('sha256').update(video).digest('hex'),
    config: 'lab/configs/config.yaml',
  })
  t.is(await text(bucket, 'lab/results/job__runsh-happy_1/process_results/config.yaml'), config)
  const listed = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'lab/results/'}))
  t.deepEqual(listed.Contents?.map((o) => o.Key).sort(), [
    'lab/results/job__runsh-happy_1/process_results/config.yaml',
    'lab/results/job__runsh-happy_1/process_results/video.mp4.summary.json',
  ])
})

test('run.sh with a folder key summarizes every file in it, and works without a config key', async (t) => {
  const bucket = 'runsh-folder'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/inputs/session/a.tif', Body: 'aaaa'}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/inputs/session/sub/b "q".tif', Body: 'bb'}))

  const run = await runScript([bucket, 'lab/inputs/session/', 'lab/results/job2'])
  t.is(run.code, 0, run.stderr)
  const a = JSON.parse(await text(bucket, 'lab/results/job2/process_results/a.tif.summary.json'))
  t.like(a, {key: 'lab/inputs/session/a.tif', bytes: 4, sha256: createHash('sha256').update('aaaa').digest('hex'), config: ''})
  const b = JSON.parse(await text(bucket, 'lab/results/job2/process_results/sub__b "q".tif.summary.json'))
  t.like(b, {input: 'sub__b "q".tif', key: 'lab/inputs/session/sub/b "q".tif', bytes: 2})
})

test('run.sh with a missing input exits non-zero naming the key, and uploads nothing', async (t) => {
  const bucket = 'runsh-missing'
  await s3.send(new CreateBucketCommand({Bucket: bucket}))
  await s3.send(new PutObjectCommand({Bucket: bucket, Key: 'lab/configs/config.yaml', Body: 'x: 1\n'}))

  const run = await runScript([bucket, 'lab/inputs/nope.mp4', 'lab/results/job3', 'lab/configs/config.yaml'])
  t.not(run.code, 0)
  t.regex(run.stderr, /ERROR: could not download s3:\/\/runsh-missing\/lab\/inputs\/nope\.mp4/)
  const listed = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: 'lab/results/'}))
  t.is(listed.KeyCount, 0)
})

test("run.sh names no endpoint: transfers rely on the environment (AWS, or the emulator's wrapper)", async (t) => {
  const script = await readFile(runSh, 'utf8')
  t.false(script.includes('--endpoint-url'))
  t.regex(script, /^set -euo pipefail$/m)
  t.regex(script, /PUT YOUR ANALYSIS HERE/)
})

test('run.sh refuses a wrong number of values with its usage', async (t) => {
  const run = await runScript(['only-a-bucket'])
  t.is(run.code, 2)
  t.regex(run.stderr, /usage: run\.sh BUCKET DATA_KEY RESULT_PATH \[CONFIG_KEY\]/)
})
