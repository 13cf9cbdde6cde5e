/**
 * The core against botocore (boto3) and AWS CLI v2, which sign differently from
 * SDK v3: no x-amz-content-sha256 outside S3 (the body is hashed into the signature),
 * their own presigner, and their own error parsers, EC2's included.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import test from 'ava'
import {AwsError} from '../../../src/emulator/errors.js'
import {sendError} from '../../../src/emulator/protocols/errors.js'
import {parseQuery, queryList, sendQueryResult} from '../../../src/emulator/protocols/query.js'
import type {ServiceFactory} from '../../../src/emulator/types.js'
import {startTestServer} from './fixtures.js'

const run = promisify(execFile)

/** An EC2-Query service: DescribeInstances with ids is InvalidInstanceID.NotFound, without ids an empty reservation list. */
const ec2Service: ServiceFactory = () => ({
  signingName: 'ec2',
  async handle(ctx) {
    try {
      const {action, params} = await parseQuery(ctx)
      if (action !== 'DescribeInstances') throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`)
      const ids = queryList(params, 'InstanceId')
      if (ids.length > 0) throw new AwsError('InvalidInstanceID.NotFound', `The instance IDs '${ids.join(', ')}' do not exist`)
      sendQueryResult(ctx, action, {reservationSet: []}, {ec2: true})
    } catch (error) {
      if (!(error instanceof AwsError)) throw error
      sendError(ctx, 'ec2', error)
    }
  },
})

const server = await startTestServer({services: {ec2: ec2Service}})
test.after.always(() => server.close())

const script = `
import json, sys, urllib.request
import boto3
from botocore.exceptions import ClientError
endpoint = sys.argv[1]
def client(name, secret='test'):
    return boto3.client(name, endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test',
                        aws_secret_access_key=secret, config=boto3.session.Config(retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
def code(call):
    try:
        call()
        return 'no error'
    except ClientError as e:
        return e.response['Error']['Code']
out = {}
out['account'] = client('sts').get_caller_identity()['Account']
out['sts_wrong_secret'] = code(lambda: client('sts', 'nope').get_caller_identity())
s3 = client('s3')
s3.put_object(Bucket='b', Key='py/key with space', Body=b'from boto3')
out['get'] = s3.get_object(Bucket='b', Key='py/key with space')['Body'].read().decode()
s3.put_object(Bucket='b', Key='py/crc', Body=b'with checksum', ChecksumAlgorithm='CRC32')
out['s3_missing'] = code(lambda: s3.get_object(Bucket='b', Key='nope'))
out['s3_wrong_secret'] = code(lambda: client('s3', 'nope').get_object(Bucket='b', Key='py/crc'))
v4 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test',
                  config=boto3.session.Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
url = v4.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'py/key with space'}, ExpiresIn=60)
out['presigned'] = urllib.request.urlopen(url).read().decode()
# Without signature_version botocore presigns with SigV2, which is refused with a message saying so.
try:
    urllib.request.urlopen(s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'py/crc'}, ExpiresIn=60))
    out['sigv2'] = 'accepted'
except urllib.error.HTTPError as e:
    out['sigv2'] = [e.code, 'signature_version' in e.read().decode()]
ec2 = client('ec2')
out['ec2_empty'] = ec2.describe_instances()['Reservations']
out['ec2_missing'] = code(lambda: ec2.describe_instances(InstanceIds=['i-0123456789abcdef0']))
out['ec2_wrong_secret'] = code(lambda: client('ec2', 'nope').describe_instances())
out['secret_missing'] = code(lambda: client('secretsmanager').get_secret_value(SecretId='other'))
out['secret'] = client('secretsmanager').get_secret_value(SecretId='known')['SecretString']
out['lambda_missing'] = code(lambda: client('lambda').get_function(FunctionName='nope'))
out['iam_missing'] = code(lambda: client('iam').get_user(UserName='nobody'))
print(json.dumps(out))
`

test('boto3: signatures accepted, errors parsed into the right codes in every protocol (EC2 included)', async (t) => {
  const {stdout} = await run('python3', ['-c', script, server.endpoint], {timeout: 60_000})
  const out = JSON.parse(stdout) as Record<string, unknown>
  t.deepEqual(out, {
    account: '000000000000',
    sts_wrong_secret: 'SignatureDoesNotMatch',
    get: 'from boto3',
    s3_missing: 'NoSuchKey',
    s3_wrong_secret: 'SignatureDoesNotMatch',
    presigned: 'from boto3',
    sigv2: [400, true],
    ec2_empty: [],
    ec2_missing: 'InvalidInstanceID.NotFound',
    ec2_wrong_secret: 'AuthFailure',
    secret_missing: 'ResourceNotFoundException',
    secret: 's3cr3t',
    lambda_missing: 'ResourceNotFoundException',
    iam_missing: 'NoSuchEntity',
  })
  t.is(server.objects.get('/b/py/crc')?.body.toString(), 'with checksum')
})

test('AWS CLI v2: sts get-caller-identity, s3 cp up and down', async (t) => {
  const cli = '/usr/bin/aws'
  if (!existsSync(cli)) {
    t.pass('AWS CLI v2 is not installed at /usr/bin/aws; skipped')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'ncap-core-cli-'))
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
  }
  const aws = (...args: string[]) => run(cli, ['--endpoint-url', server.endpoint, ...args], {env, timeout: 60_000})
  const identity = JSON.parse((await aws('sts', 'get-caller-identity', '--output', 'json')).stdout) as {Account: string}
  t.is(identity.Account, '000000000000')
  const source = join(dir, 'upload.bin')
  await writeFile(source, Buffer.alloc(200_000, 'c'))
  await aws('s3', 'cp', source, 's3://b/cli/upload.bin')
  t.is(server.objects.get('/b/cli/upload.bin')?.body.length, 200_000)
  const target = join(dir, 'download.bin')
  await aws('s3api', 'get-object', '--bucket', 'b', '--key', 'cli/upload.bin', target)
  t.deepEqual(await readFile(target), Buffer.alloc(200_000, 'c'))
})
