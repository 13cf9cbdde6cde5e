/**
 * The unmodified AWS CLI v2 (Debian's, at /usr/bin/aws; the pyenv `aws` first on
 * PATH is v1) and boto3 against the emulator: a secret created, rotated by
 * put-secret-value, read by stage, deleted and restored; and an IAM user
 * refused by its permissions boundary although its identity policy allows the
 * action.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as iam from '@aws-sdk/client-iam'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

const AWS_V2 = '/usr/bin/aws'
const hasAwsV2 = existsSync(AWS_V2)
const cli = hasAwsV2 ? test : test.skip
if (!hasAwsV2) console.log(`Skipping the AWS CLI v2 tests: ${AWS_V2} is absent (apt-get install awscli).`)

let server: RunningServer
let work = ''
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ncap-sm-clients-'))
  server = await startServer({stateDir: join(work, 'state'), port: 0})
})
test.after.always(async () => server?.close())

interface Run {
  code: number
  stdout: string
  stderr: string
}

const baseEnv = (id: string, secret: string) => ({
  PATH: process.env.PATH,
  HOME: work,
  AWS_ACCESS_KEY_ID: id,
  AWS_SECRET_ACCESS_KEY: secret,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(work, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
  AWS_PAGER: '',
})

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(file, args, {env, maxBuffer: 16 << 20, timeout: 60_000}, (error, stdout, stderr) => {
      done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

const aws = (args: string[], id = 'test', secret = 'test') =>
  run(AWS_V2, ['--endpoint-url', server.endpoint, '--output', 'json', ...args], baseEnv(id, secret))

async function awsJson(t: {is(a: unknown, b: unknown, m?: string): void}, args: string[], id?: string, secret?: string) {
  const result = await aws(args, id, secret)
  t.is(result.code, 0, `aws ${args.join(' ')} failed: ${result.stderr}`)
  return result.stdout.trim() === '' ? {} : JSON.parse(result.stdout)
}

cli('AWS CLI v2: create a secret, rotate it with put-secret-value, read by stage, delete and restore', async (t) => {
  const created = await awsJson(t, ['secretsmanager', 'create-secret', '--name', 'cli/db', '--secret-string', '{"password":"first"}'])
  t.regex(created.ARN, /:secret:cli\/db-[A-Za-z0-9]{6}$/)
  const rotated = await awsJson(t, [
    'secretsmanager',
    'put-secret-value',
    '--secret-id',
    'cli/db',
    '--secret-string',
    '{"password":"second"}',
  ])
  t.deepEqual(rotated.VersionStages, ['AWSCURRENT'])
  const current = await awsJson(t, ['secretsmanager', 'get-secret-value', '--secret-id', created.ARN, '--version-stage', 'AWSCURRENT'])
  t.is(current.SecretString, '{"password":"second"}')
  const previous = await awsJson(t, ['secretsmanager', 'get-secret-value', '--secret-id', 'cli/db', '--version-stage', 'AWSPREVIOUS'])
  t.is(previous.SecretString, '{"password":"first"}')
  t.is(previous.VersionId, created.VersionId)
  const deleted = await awsJson(t, ['secretsmanager', 'delete-secret', '--secret-id', 'cli/db', '--recovery-window-in-days', '7'])
  t.truthy(deleted.DeletionDate)
  const refused = await aws(['secretsmanager', 'get-secret-value', '--secret-id', 'cli/db'])
  t.not(refused.code, 0)
  t.regex(refused.stderr, /InvalidRequestException/)
  t.regex(refused.stderr, /marked for deletion/)
  await awsJson(t, ['secretsmanager', 'restore-secret', '--secret-id', 'cli/db'])
  const back = await awsJson(t, ['secretsmanager', 'get-secret-value', '--secret-id', 'cli/db'])
  t.is(back.SecretString, '{"password":"second"}')
  const password = await awsJson(t, ['secretsmanager', 'get-random-password', '--password-length', '20', '--exclude-punctuation'])
  t.regex(password.RandomPassword, /^[A-Za-z0-9]{20}$/)
})

const BOTO3_SECRETS = `
import json, sys, boto3
from botocore.exceptions import ClientError
sm = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1',
                  aws_access_key_id='test', aws_secret_access_key='test')
out = {}
created = sm.create_secret(Name='py/db', SecretString='one', Tags=[{'Key': 'team', 'Value': 'lab'}])
out['arn'] = created['ARN']
sm.put_secret_value(SecretId='py/db', SecretString='two')
out['current'] = sm.get_secret_value(SecretId='py/db', VersionStage='AWSCURRENT')['SecretString']
out['previous'] = sm.get_secret_value(SecretId='py/db', VersionStage='AWSPREVIOUS')['SecretString']
sm.create_secret(Name='py/bin', SecretBinary=b'\\x00\\x01\\xff')
out['binary'] = list(sm.get_secret_value(SecretId='py/bin')['SecretBinary'])
sm.delete_secret(SecretId='py/db', RecoveryWindowInDays=7)
try:
    sm.get_secret_value(SecretId='py/db')
except ClientError as error:
    out['scheduled'] = error.response['Error']['Code']
sm.restore_secret(SecretId='py/db')
out['restored'] = sm.get_secret_value(SecretId='py/db')['SecretString']
names = []
for page in sm.get_paginator('list_secrets').paginate(PaginationConfig={'PageSize': 1}):
    names += [entry['Name'] for entry in page['SecretList']]
out['listed'] = sorted(names)
print(json.dumps(out))
`

test('boto3: create, rotate, read by stage, binary, delete, restore, paginate', async (t) => {
  const result = await run('python3', ['-c', BOTO3_SECRETS, server.endpoint], baseEnv('test', 'test'))
  t.is(result.code, 0, result.stderr)
  const out = JSON.parse(result.stdout)
  t.regex(out.arn, /:secret:py\/db-[A-Za-z0-9]{6}$/)
  t.is(out.current, 'two')
  t.is(out.previous, 'one')
  t.deepEqual(out.binary, [0, 1, 255])
  t.is(out.scheduled, 'InvalidRequestException')
  t.is(out.restored, 'two')
  t.true(out.listed.includes('py/db') && out.listed.includes('py/bin'))
})

const document = (...Statement: object[]) => JSON.stringify({Version: '2012-10-17', Statement})

/** A user whose identity policy allows iam:ListUsers and iam:ListRoles but whose boundary allows only ListUsers (set up with SDK v3). */
async function boundedUser(name: string) {
  const admin = new iam.IAMClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  const boundary = await admin.send(
    new iam.CreatePolicyCommand({
      PolicyName: `${name}-cap`,
      PolicyDocument: document({Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*'}),
    }),
  )
  await admin.send(new iam.CreateUserCommand({UserName: name, PermissionsBoundary: boundary.Policy!.Arn}))
  await admin.send(
    new iam.PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'broad',
      PolicyDocument: document({Effect: 'Allow', Action: ['iam:ListUsers', 'iam:ListRoles'], Resource: '*'}),
    }),
  )
  const key = (await admin.send(new iam.CreateAccessKeyCommand({UserName: name}))).AccessKey!
  return {id: key.AccessKeyId!, secret: key.SecretAccessKey!}
}

cli('AWS CLI v2: a user refused by its permissions boundary that its identity policy would allow', async (t) => {
  const key = await boundedUser('cli-bounded')
  const user = await awsJson(t, ['iam', 'get-user', '--user-name', 'cli-bounded'])
  t.regex(user.User.PermissionsBoundary.PermissionsBoundaryArn, /policy\/cli-bounded-cap$/)
  await awsJson(t, ['iam', 'list-users'], key.id, key.secret)
  const refused = await aws(['iam', 'list-roles'], key.id, key.secret)
  t.not(refused.code, 0)
  t.regex(refused.stderr, /AccessDenied/)
  t.regex(refused.stderr, /cli-bounded is not authorized to perform: iam:ListRoles/)
})

const BOTO3_BOUNDARY = `
import json, sys, boto3
from botocore.exceptions import ClientError
endpoint, key_id, secret = sys.argv[1:4]
iam = boto3.client('iam', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id=key_id, aws_secret_access_key=secret)
out = {'users': len(iam.list_users()['Users'])}
try:
    iam.list_roles()
    out['roles'] = 'allowed'
except ClientError as error:
    out['roles'] = error.response['Error']['Code']
print(json.dumps(out))
`

test('boto3: the same boundary refuses what the identity policy allows', async (t) => {
  const key = await boundedUser('py-bounded')
  const result = await run('python3', ['-c', BOTO3_BOUNDARY, server.endpoint, key.id, key.secret], baseEnv('x', 'x'))
  t.is(result.code, 0, result.stderr)
  const out = JSON.parse(result.stdout)
  t.true(out.users >= 1)
  t.is(out.roles, 'AccessDenied')
})
