/**
 * Smoke: the unmodified AWS CLI v2 (Debian's, at /usr/bin/aws) drives the emulator
 * through --endpoint-url with the admin key pair, then with an IAM user's own key.
 * The pyenv `aws` first on PATH is v1, so v2 is called by its path.
 */
import {execFile} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'

const AWS_V2 = '/usr/bin/aws'
const hasAwsV2 = existsSync(AWS_V2)
const smoke = hasAwsV2 ? test : test.skip
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 smoke tests: ${AWS_V2} is absent (apt-get install awscli).`)

let endpoint = ''
let work = ''
let close: (() => Promise<void>) | undefined

test.before(async () => {
  if (!hasAwsV2) return
  work = await mkdtemp(join(tmpdir(), 'ncap-smoke-cli-'))
  const server = await startServer({stateDir: join(work, 'state'), port: 0})
  endpoint = server.endpoint
  close = server.close
})
test.after.always(async () => {
  await close?.()
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

function aws(args: string[], credentials = {id: 'test', secret: 'test'}): Promise<Run> {
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_ACCESS_KEY_ID: credentials.id,
    AWS_SECRET_ACCESS_KEY: credentials.secret,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    AWS_PAGER: '',
  }
  return new Promise((done) => {
    execFile(AWS_V2, ['--endpoint-url', endpoint, '--output', 'json', ...args], {env, maxBuffer: 16 << 20}, (error, stdout, stderr) => {
      done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
  })
}

async function awsOk(t: {is(a: unknown, b: unknown, m?: string): void}, args: string[], credentials?: {id: string; secret: string}) {
  const run = await aws(args, credentials)
  t.is(run.code, 0, `aws ${args.join(' ')} failed: ${run.stderr}`)
  return run.stdout
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

smoke('s3 mb, cp (small and 20 MB multipart), ls, cp back byte-exact', async (t) => {
  await awsOk(t, ['s3', 'mb', 's3://smoke-cli'])
  const small = join(work, 'small.txt')
  await writeFile(small, 'hello from aws cli v2\n')
  const big = join(work, 'big.bin')
  const bigData = randomBytes(20 * 1024 * 1024)
  await writeFile(big, bigData)
  await awsOk(t, ['s3', 'cp', small, 's3://smoke-cli/docs/small.txt'])
  await awsOk(t, ['s3', 'cp', big, 's3://smoke-cli/data/big.bin'])

  const listing = await awsOk(t, ['s3', 'ls', 's3://smoke-cli/', '--recursive'])
  t.regex(listing, /\s22 docs\/small\.txt/)
  t.regex(listing, new RegExp(`\\s${bigData.length} data/big\\.bin`))
  const head = JSON.parse(await awsOk(t, ['s3api', 'head-object', '--bucket', 'smoke-cli', '--key', 'data/big.bin']))
  t.regex(head.ETag, /^"[0-9a-f]{32}-\d+"$/, 'a 20 MB cp is a multipart upload')

  const back = join(work, 'big.back')
  await awsOk(t, ['s3', 'cp', 's3://smoke-cli/data/big.bin', back])
  t.is(sha256(await readFile(back)), sha256(bigData))
  const buckets = await awsOk(t, ['s3', 'ls'])
  t.regex(buckets, /smoke-cli/)
})

smoke('s3 sync a folder up and down, then rm --recursive', async (t) => {
  await awsOk(t, ['s3', 'mb', 's3://smoke-sync'])
  const up = join(work, 'up')
  await mkdir(join(up, 'nested', 'deeper'), {recursive: true})
  const files: Record<string, string> = {'a.txt': 'alpha', 'nested/b.txt': 'beta', 'nested/deeper/c with space.txt': 'gamma'}
  for (const [name, content] of Object.entries(files)) await writeFile(join(up, name), content)
  await awsOk(t, ['s3', 'sync', up, 's3://smoke-sync/run1'])
  const down = join(work, 'down')
  await awsOk(t, ['s3', 'sync', 's3://smoke-sync/run1', down])
  for (const [name, content] of Object.entries(files)) t.is(await readFile(join(down, name), 'utf8'), content)
  const again = await awsOk(t, ['s3', 'sync', up, 's3://smoke-sync/run1'])
  t.is(again.trim(), '', 'a second sync uploads nothing')

  await awsOk(t, ['s3', 'rm', 's3://smoke-sync/run1', '--recursive'])
  const left = await aws(['s3', 'ls', 's3://smoke-sync/run1/', '--recursive'])
  t.is(left.stdout.trim(), '')
  t.deepEqual((await readdir(down)).sort(), ['a.txt', 'nested'])
})

smoke('s3api multipart: create, upload-part, complete', async (t) => {
  await awsOk(t, ['s3api', 'create-bucket', '--bucket', 'smoke-mpu'])
  const created = JSON.parse(await awsOk(t, ['s3api', 'create-multipart-upload', '--bucket', 'smoke-mpu', '--key', 'parts/joined.bin']))
  t.truthy(created.UploadId)
  const part1 = randomBytes(5 * 1024 * 1024)
  const part2 = randomBytes(1024)
  const parts = []
  for (const [n, data] of [part1, part2].entries()) {
    const file = join(work, `part${n + 1}`)
    await writeFile(file, data)
    const uploaded = JSON.parse(
      await awsOk(t, [
        's3api',
        'upload-part',
        '--bucket',
        'smoke-mpu',
        '--key',
        'parts/joined.bin',
        '--part-number',
        String(n + 1),
        '--upload-id',
        created.UploadId,
        '--body',
        file,
      ]),
    )
    parts.push({ETag: uploaded.ETag, PartNumber: n + 1})
  }
  const completed = JSON.parse(
    await awsOk(t, [
      's3api',
      'complete-multipart-upload',
      '--bucket',
      'smoke-mpu',
      '--key',
      'parts/joined.bin',
      '--upload-id',
      created.UploadId,
      '--multipart-upload',
      JSON.stringify({Parts: parts}),
    ]),
  )
  t.regex(completed.ETag, /-2"$/)
  const out = join(work, 'joined.bin')
  await awsOk(t, ['s3api', 'get-object', '--bucket', 'smoke-mpu', '--key', 'parts/joined.bin', out])
  t.is(sha256(await readFile(out)), sha256(Buffer.concat([part1, part2])))
})

smoke('iam users and keys, sts get-caller-identity as root and as the new user', async (t) => {
  const root = JSON.parse(await awsOk(t, ['sts', 'get-caller-identity']))
  t.is(root.Account, '000000000000')
  t.is(root.Arn, 'arn:aws:iam::000000000000:root')

  const user = JSON.parse(await awsOk(t, ['iam', 'create-user', '--user-name', 'smoke-alice']))
  t.is(user.User.Arn, 'arn:aws:iam::000000000000:user/smoke-alice')
  const key = JSON.parse(await awsOk(t, ['iam', 'create-access-key', '--user-name', 'smoke-alice'])).AccessKey
  t.regex(key.AccessKeyId, /^AKIA/)
  const users = JSON.parse(await awsOk(t, ['iam', 'list-users']))
  t.true(users.Users.some((u: {UserName: string}) => u.UserName === 'smoke-alice'))

  const alice = JSON.parse(await awsOk(t, ['sts', 'get-caller-identity'], {id: key.AccessKeyId, secret: key.SecretAccessKey}))
  t.is(alice.Arn, 'arn:aws:iam::000000000000:user/smoke-alice')
  const wrong = await aws(['sts', 'get-caller-identity'], {id: key.AccessKeyId, secret: 'not-the-secret'})
  t.not(wrong.code, 0)
  t.regex(wrong.stderr, /SignatureDoesNotMatch/)

  await awsOk(t, ['iam', 'delete-access-key', '--user-name', 'smoke-alice', '--access-key-id', key.AccessKeyId])
  await awsOk(t, ['iam', 'delete-user', '--user-name', 'smoke-alice'])
  const missing = await aws(['iam', 'get-user', '--user-name', 'smoke-alice'])
  t.not(missing.code, 0)
  t.regex(missing.stderr, /NoSuchEntity/)
})
