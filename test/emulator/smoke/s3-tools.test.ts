/**
 * Smoke: S3 versions as everyday tools handle them. The unmodified AWS CLI v2 (/usr/bin/aws)
 * runs `aws s3 rb --force` on a versioned bucket full of versions and delete markers, and boto3's
 * resource API empties one with `bucket.object_versions.delete()`.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

const AWS_V2 = '/usr/bin/aws'
const hasAwsV2 = existsSync(AWS_V2)
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 checks of s3-tools: ${AWS_V2} is absent (apt-get install -y awscli).`)

let server: RunningServer
let work = ''
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-s3-tools-'))
  server = await startServer({stateDir: join(work, 'state'), port: 0})
})
test.after.always(async () => {
  await server?.close()
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

const isolated = () => ({
  PATH: process.env.PATH,
  HOME: work,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(work, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
  AWS_PAGER: '',
})

function run(command: string, args: string[], env: NodeJS.ProcessEnv = isolated()): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, {env, maxBuffer: 16 << 20}, (error, stdout, stderr) => {
      done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
  })
}

const aws = (...args: string[]) => run(AWS_V2, ['--endpoint-url', server.endpoint, '--output', 'json', ...args])

async function awsOk(t: {is(a: unknown, b: unknown, m?: string): void}, ...args: string[]): Promise<string> {
  const out = await aws(...args)
  t.is(out.code, 0, `aws ${args.join(' ')}: ${out.stderr}`)
  return out.stdout
}

const smoke = hasAwsV2 ? test : test.skip

smoke(
  'AWS CLI v2: `s3 rb --force` on a versioned bucket fails as on AWS (BucketNotEmpty, delete markers left); emptied by s3api it goes',
  async (t) => {
    await awsOk(t, 's3', 'mb', 's3://tools-versioned')
    await awsOk(t, 's3api', 'put-bucket-versioning', '--bucket', 'tools-versioned', '--versioning-configuration', 'Status=Enabled')
    const tree = join(work, 'tree')
    await mkdir(join(tree, 'dir', 'sub'), {recursive: true})
    for (let round = 0; round < 3; round++) {
      for (const key of ['a.txt', 'dir/b.txt', 'dir/sub/c d.txt']) await writeFile(join(tree, key), `round ${round} of ${key}`)
      await awsOk(t, 's3', 'cp', '--recursive', tree, 's3://tools-versioned/')
    }
    await awsOk(t, 's3', 'rm', 's3://tools-versioned/a.txt')
    const before = JSON.parse(await awsOk(t, 's3api', 'list-object-versions', '--bucket', 'tools-versioned'))
    t.is(before.Versions.length, 9)
    t.is(before.DeleteMarkers.length, 1)

    // The CLI removes current objects only (delete markers), then DeleteBucket refuses: what AWS does (aws-cli#1017).
    const forced = await aws('s3', 'rb', '--force', 's3://tools-versioned')
    t.not(forced.code, 0)
    t.regex(forced.stderr, /BucketNotEmpty/)
    t.regex(forced.stderr, /You must delete all versions in the bucket/)
    const after = JSON.parse(await awsOk(t, 's3api', 'list-object-versions', '--bucket', 'tools-versioned'))
    t.is(after.Versions.length, 9)
    t.is(after.DeleteMarkers.length, 3)
    t.true(after.DeleteMarkers.every((marker: {IsLatest: boolean}) => marker.IsLatest))

    // The documented way to empty it: delete every version and marker by id, then rb.
    const objects = [...after.Versions, ...after.DeleteMarkers].map((v: {Key: string; VersionId: string}) => ({
      Key: v.Key,
      VersionId: v.VersionId,
    }))
    const doc = join(work, 'delete.json')
    await writeFile(doc, JSON.stringify({Objects: objects, Quiet: true}))
    await awsOk(t, 's3api', 'delete-objects', '--bucket', 'tools-versioned', '--delete', `file://${doc}`)
    await awsOk(t, 's3', 'rb', 's3://tools-versioned')
    t.not((await aws('s3api', 'head-bucket', '--bucket', 'tools-versioned')).code, 0)
  },
)

const BOTO3 = `
import json, sys, boto3
s3 = boto3.resource('s3', endpoint_url=sys.argv[1], region_name='us-east-1',
                    aws_access_key_id='test', aws_secret_access_key='test')
bucket = s3.create_bucket(Bucket='tools-boto3')
bucket.Versioning().enable()
for i in range(4):
    for key in ('one', 'two/three', 'four five'):
        bucket.put_object(Key=key, Body=('v%d' % i).encode())
bucket.Object('one').delete()
bucket.Object('two/three').delete()
before = [(v.object_key, v.id, v.is_latest) for v in bucket.object_versions.all()]
filtered = sorted({v.object_key for v in bucket.object_versions.filter(Prefix='two/')})
status = bucket.Versioning().status
bucket.object_versions.delete()
after = list(bucket.object_versions.all())
bucket.delete()
try:
    s3.meta.client.head_bucket(Bucket='tools-boto3')
    gone = False
except Exception as error:
    gone = getattr(error, 'response', {}).get('Error', {}).get('Code') in ('404', 'NoSuchBucket')
print(json.dumps({'before': len(before), 'latest': sum(1 for v in before if v[2]), 'filtered': filtered,
                  'status': status, 'after': len(after), 'gone': gone}))
`

test('boto3: bucket.object_versions.delete() removes every version and delete marker, and the bucket can go', async (t) => {
  const out = await run('python3', ['-c', BOTO3, server.endpoint], {
    ...process.env,
    AWS_CONFIG_FILE: join(work, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
  })
  if (out.code !== 0 && /No module named 'boto3'/.test(out.stderr)) {
    t.log('boto3 is not installed: skipped')
    t.pass()
    return
  }
  t.is(out.code, 0, out.stderr)
  const report = JSON.parse(out.stdout)
  t.is(report.status, 'Enabled')
  t.is(report.before, 14)
  t.is(report.latest, 3)
  t.deepEqual(report.filtered, ['two/three'])
  t.is(report.after, 0)
  t.true(report.gone)
})
