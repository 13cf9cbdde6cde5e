/**
 * Target resolution and the one client factory, against real servers: the
 * embedded emulator auto-started on a temp NCAP_HOME, moto_server through
 * --endpoint-url, and LocalStack's refusals on a machine without it.
 */
import {existsSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import {IAMClient, ListUsersCommand} from '@aws-sdk/client-iam'
import {CreateBucketCommand, ListBucketsCommand, S3Client} from '@aws-sdk/client-s3'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {clientSettings, createClient} from '../../src/cloud/client.js'
import {LOCALSTACK_DOCKER_RUN} from '../../src/cloud/localstack.js'
import {EMULATOR_CREDENTIALS, resolveTarget} from '../../src/cloud/target.js'
import {stopEmulator} from '../../src/emulator/lifecycle.js'
import {NcapError, UsageError} from '../../src/errors.js'
import {startMoto} from '../helpers/moto.js'

test('local: auto-starts the emulator in NCAP_HOME, then reuses it', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ncap-cloud-local-'))
  const stateDir = join(home, 'emulator')
  t.teardown(() => stopEmulator(stateDir))
  const env = {...process.env, NCAP_HOME: home}
  const first = await resolveTarget({}, env)
  t.is(first.kind, 'local')
  t.regex(first.endpoint ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
  t.true(existsSync(join(stateDir, 'emulator.json')))
  const second = await resolveTarget({target: 'local', region: 'eu-west-1'}, env)
  t.is(second.endpoint, first.endpoint)
  t.is(second.region, 'eu-west-1')

  const identity = await createClient(STSClient, first).send(new GetCallerIdentityCommand({}))
  t.is(identity.Account, '000000000000')
  t.is(identity.Arn, 'arn:aws:iam::000000000000:root')
  const s3 = createClient(S3Client, first)
  await s3.send(new CreateBucketCommand({Bucket: 'path-style-bucket'}))
  const buckets = await s3.send(new ListBucketsCommand({}))
  t.true(buckets.Buckets?.some((bucket) => bucket.Name === 'path-style-bucket'))
  const users = await createClient(IAMClient, first).send(new ListUsersCommand({}))
  t.deepEqual(users.Users ?? [], [])
})

test('endpoint: --endpoint-url reaches moto_server with test credentials', async (t) => {
  const moto = await startMoto()
  t.teardown(() => moto.stop())
  const env = {PATH: process.env.PATH}
  const target = await resolveTarget({endpointUrl: `${moto.endpoint}/`, target: 'aws'}, env)
  t.is(target.kind, 'endpoint')
  t.is(target.endpoint, moto.endpoint)
  t.deepEqual(target.credentials, {accessKeyId: 'test', secretAccessKey: 'test'})
  t.not(target.credentials, EMULATOR_CREDENTIALS)
  const s3 = createClient(S3Client, target)
  await s3.send(new CreateBucketCommand({Bucket: 'through-moto'}))
  const buckets = await s3.send(new ListBucketsCommand({}))
  t.deepEqual(
    buckets.Buckets?.map((bucket) => bucket.Name),
    ['through-moto'],
  )
  const identity = await createClient(STSClient, target).send(new GetCallerIdentityCommand({}))
  t.is(identity.Account, '123456789012') // moto's own account: proof the call went to moto
})

test('endpoint: credentials come from the environment when set', async (t) => {
  const target = await resolveTarget(
    {endpointUrl: 'http://127.0.0.1:9'},
    {AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-central-1'},
  )
  t.deepEqual(target.credentials, {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: undefined})
  t.is(target.region, 'eu-central-1')
})

test('endpoint: a malformed --endpoint-url is a usage error', async (t) => {
  const error = await t.throwsAsync(resolveTarget({endpointUrl: 'localhost:4599'}, {}))
  t.true(error instanceof UsageError)
  t.regex(error?.message ?? '', /endpoint-url/)
})

test('localstack without LOCALSTACK_AUTH_TOKEN refuses before starting anything', async (t) => {
  const error = await t.throwsAsync(resolveTarget({target: 'localstack'}, {}))
  t.true(error instanceof NcapError)
  t.is((error as NcapError).exitCode, 1)
  t.is((error as NcapError).code, 'LocalStackTokenMissing')
  t.regex(error?.message ?? '', /LOCALSTACK_AUTH_TOKEN/)
  t.true((error as NcapError).suggestions.some((s) => s.includes('--target local')))
})

test('localstack with a token but nothing on 4566 says what is missing', async (t) => {
  const error = await t.throwsAsync(resolveTarget({target: 'localstack'}, {LOCALSTACK_AUTH_TOKEN: 'ls-test'}))
  t.true(error instanceof NcapError)
  const code = (error as NcapError).code
  if (existsSync('/var/run/docker.sock')) {
    t.true(['DockerNotRunning', 'LocalStackImageMissing', 'LocalStackNotHealthy'].includes(code))
  } else {
    t.is(code, 'DockerNotRunning')
    t.regex(error?.message ?? '', /Docker is not running/)
  }
  // A DOCKER_HOST where no daemon answers is named in the refusal.
  const withDockerHost = await t.throwsAsync(
    resolveTarget({target: 'localstack'}, {LOCALSTACK_AUTH_TOKEN: 'ls-test', DOCKER_HOST: 'tcp://127.0.0.1:1'}),
  )
  t.is((withDockerHost as NcapError).code, 'DockerNotRunning')
  t.regex(withDockerHost?.message ?? '', /DOCKER_HOST=tcp:\/\/127\.0\.0\.1:1/)
  t.true((withDockerHost as NcapError).suggestions.some((s) => s.includes(LOCALSTACK_DOCKER_RUN)))
})

test('aws: the standard credential chain with the profile, no endpoint, virtual-host S3', async (t) => {
  const target = await resolveTarget({target: 'aws', profile: 'lab', region: 'us-west-2'}, {})
  t.is(target.kind, 'aws')
  t.is(target.endpoint, undefined)
  t.is(target.region, 'us-west-2')
  t.is(typeof target.credentials, 'function')
  const settings = clientSettings(target)
  t.is(settings.forcePathStyle, undefined)
  t.false('endpoint' in settings)
  const cfn = createClient(CloudFormationClient, target, {maxAttempts: 5})
  t.is(await cfn.config.region(), 'us-west-2')
  t.is(await cfn.config.maxAttempts(), 5)
})

test('the factory sets endpoint, region, credentials and path style on non-AWS targets', async (t) => {
  const target = {
    kind: 'endpoint' as const,
    endpoint: 'http://127.0.0.1:4599',
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  }
  const s3 = createClient(S3Client, target)
  t.true(s3.config.forcePathStyle)
  t.is(await s3.config.region(), 'us-east-1')
  t.is(await s3.config.maxAttempts(), 3)
  t.like(await s3.config.credentials(), {accessKeyId: 'test', secretAccessKey: 'test'})
  const endpoint = await s3.config.endpoint?.()
  t.is(endpoint?.hostname, '127.0.0.1')
  t.is(endpoint?.port, 4599)
})
