/**
 * `ncap deploy`, `destroy`, `users` and `users credentials` through the real CLI
 * against one embedded emulator (a child process), as a lab would use them:
 * init → deploy → no change → an edit shown in the change set → a broken update
 * rolled back → a user's profile that works for their own group only → destroy.
 */
import {mkdtemp, readFile, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CloudFormationClient, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {CreateUserCommand, GetGroupCommand, IAMClient} from '@aws-sdk/client-iam'
import {HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {fromIni} from '@aws-sdk/credential-providers'
import test from 'ava'
import {mergeSettings} from '../../src/deploy/settings.js'
import {withProfile} from '../../src/deploy/users.js'
import {runCli} from '../helpers/cli.js'

const work = await mkdtemp(join(tmpdir(), 'ncap-deploy-'))
const stateDir = join(work, 'state')
const dir = join(work, 'labpipe')
const home = join(work, 'home')
let endpoint = ''
const admin = {region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}
const env = {NCAP_HOME: home, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config')}
const ncap = (args: string[], timeoutMs = 180_000) => runCli(args, {env, timeoutMs, cwd: dir})
const client = <C>(Client: new (config: object) => C): C => new Client({...admin, endpoint, forcePathStyle: true})

test.before(async () => {
  const started = await runCli(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'], {env})
  if (started.code !== 0) throw new Error(`emulator did not start: ${started.stderr}`)
  endpoint = JSON.parse(started.stdout).endpoint
  const init = await runCli(
    ['init', dir, '--name', 'labpipe', '--region', 'us-east-1', '--group', 'lab:alice,bob', '--group', 'other:carol', '--yes'],
    {
      env,
    },
  )
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
})

test.after.always(async () => {
  await runCli(['emulator', 'stop', '--state-dir', stateDir], {env})
})

test('settings: flags win over the saved choice, a named target forgets the saved endpoint', (t) => {
  t.deepEqual(mergeSettings({target: 'local', endpointUrl: 'http://x:1', region: 'eu-west-1'}, {}), {
    target: 'local',
    endpointUrl: 'http://x:1',
    region: 'eu-west-1',
  })
  t.deepEqual(mergeSettings({target: 'local', endpointUrl: 'http://x:1'}, {target: 'local'}), {target: 'local'})
  t.deepEqual(mergeSettings(undefined, {target: 'aws', profile: 'lab', 'stack-name': 's'}), {target: 'aws', profile: 'lab', stackName: 's'})
})

test('credentials file: one profile set, the others kept', (t) => {
  const before = '[default]\naws_access_key_id = A\n\n[alice]\naws_access_key_id = OLD\n\n[zed]\nregion = x\n'
  const after = withProfile(before, 'alice', {aws_access_key_id: 'NEW', aws_secret_access_key: 'S'})
  t.regex(after, /\[default\]\naws_access_key_id = A/)
  t.regex(after, /\[zed\]\nregion = x/)
  t.regex(after, /\[alice\]\naws_access_key_id = NEW\naws_secret_access_key = S\n$/)
  t.notRegex(after, /OLD/)
})

test.serial('deploy without a terminal and without --yes exits 2 naming --yes, before touching the target', async (t) => {
  const result = await ncap(['deploy', '--state-dir', stateDir])
  t.is(result.code, 2, result.stderr)
  t.regex(result.stderr, /--yes/)
  const cfn = client(CloudFormationClient)
  await t.throwsAsync(cfn.send(new DescribeStacksCommand({StackName: 'labpipe'})), {message: /does not exist/})
})

test.serial('a bad --target exits 2', async (t) => {
  const result = await ncap(['deploy', '--target', 'mars', '--yes'])
  t.is(result.code, 2)
  t.regex(result.stderr, /mars/)
})

test.serial('deploy --yes creates the stack with every resource the config declares', async (t) => {
  const result = await ncap(['deploy', '--state-dir', stateDir, '--yes', '--json'])
  t.is(result.code, 0, result.stderr)
  const doc = JSON.parse(result.stdout)
  t.is(doc.status, 'CREATE_COMPLETE')
  t.is(doc.changeSet.type, 'CREATE')
  t.true(doc.changeSet.changes.every((c: {change: string}) => c.change === 'added'))
  t.true(doc.events.some((e: {logicalId: string; status: string}) => e.logicalId === 'BucketFolders' && e.status === 'CREATE_COMPLETE'))
  t.truthy(doc.outputs.SubmitFunctionArn)
  t.deepEqual(doc.images, ['ami-0123456789abcdef0'])
  // Settings saved beside the config for the next command.
  t.like(JSON.parse(await readFile(join(dir, 'ncap-deploy.json'), 'utf8')), {target: 'local', stateDir})
  // The bucket and the group folders made by the custom resource.
  const s3 = client(S3Client)
  await t.notThrowsAsync(s3.send(new HeadBucketCommand({Bucket: 'labpipe'})))
  const keys = (await s3.send(new ListObjectsV2Command({Bucket: 'labpipe'}))).Contents?.map((o) => o.Key) ?? []
  for (const folder of ['lab/inputs/', 'lab/submissions/', 'other/configs/']) t.true(keys.includes(folder), folder)
  // The users in their groups.
  const iam = client(IAMClient)
  const group = await iam.send(new GetGroupCommand({GroupName: 'labpipe-lab'}))
  t.deepEqual(group.Users?.map((u) => u.UserName).sort(), ['alice', 'bob'])
})

test.serial('a second deploy reports no change and exits 0', async (t) => {
  const result = await ncap(['deploy', '--yes'])
  t.is(result.code, 0, result.stderr)
  t.regex(result.stdout, /No changes: labpipe already matches the config/)
})

test.serial('an edit (a new user, a changed instance type) shows exactly that in the change set and applies', async (t) => {
  const file = join(dir, 'stack_config_template.json')
  const config = JSON.parse(await readFile(file, 'utf8'))
  config.UXData.Affiliates[0].UserNames.push('dave')
  config.Lambda.LambdaConfig.INSTANCE_TYPE = 'm5.large'
  await writeFile(file, JSON.stringify(config, null, 2))
  const result = await ncap(['deploy', '--yes'])
  t.is(result.code, 0, result.stderr)
  t.regex(result.stdout, /added\s+UserDave\s+AWS::IAM::User/)
  t.regex(result.stdout, /modified\s+SubmitFunction\s+AWS::Lambda::Function\s+Environment/)
  t.regex(result.stdout, /labpipe: UPDATE_COMPLETE/)
  t.notRegex(result.stdout, /removed/)
})

test.serial('a broken update rolls back and says which resource failed and why', async (t) => {
  // A user that already exists in the account: creating it again fails, as on AWS.
  await client(IAMClient).send(new CreateUserCommand({UserName: 'erin'}))
  const file = join(dir, 'stack_config_template.json')
  const config = JSON.parse(await readFile(file, 'utf8'))
  config.UXData.Affiliates[1].UserNames.push('erin')
  await writeFile(file, JSON.stringify(config, null, 2))
  const result = await ncap(['deploy', '--yes'])
  t.is(result.code, 1)
  t.regex(result.stderr, /labpipe failed: UPDATE_ROLLBACK_COMPLETE/)
  t.regex(result.stderr, /UserErin \(AWS::IAM::User\): .*erin/)
  config.UXData.Affiliates[1].UserNames.pop()
  await writeFile(file, JSON.stringify(config, null, 2))
})

test.serial('users lists the users, and users credentials writes a profile that works for the own group only', async (t) => {
  const listed = await ncap(['users', '--json'])
  t.is(listed.code, 0, listed.stderr)
  const users = JSON.parse(listed.stdout).users as {user: string; exists: boolean; keys: unknown[]}[]
  t.deepEqual(users.map((u) => u.user).sort(), ['alice', 'bob', 'carol', 'dave'])
  t.true(users.every((u) => u.exists && u.keys.length === 1))

  const refused = await ncap(['users', 'credentials', 'alice'])
  t.is(refused.code, 2)
  t.regex(refused.stderr, /--profile/)

  const written = await ncap(['users', 'credentials', 'alice', '--profile', 'alice'])
  t.is(written.code, 0, written.stderr)
  t.notRegex(written.stdout, /aws_secret_access_key/)
  t.is((await stat(env.AWS_SHARED_CREDENTIALS_FILE)).mode & 0o777, 0o600)
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: fromIni({profile: 'alice', filepath: env.AWS_SHARED_CREDENTIALS_FILE, configFilepath: env.AWS_CONFIG_FILE}),
  })
  await t.notThrowsAsync(s3.send(new PutObjectCommand({Bucket: 'labpipe', Key: 'lab/inputs/x.txt', Body: 'mine'})))
  await t.throwsAsync(s3.send(new PutObjectCommand({Bucket: 'labpipe', Key: 'other/inputs/x.txt', Body: 'theirs'})), {name: 'AccessDenied'})

  const shown = await ncap(['users', 'credentials', 'bob', '--show'])
  t.is(shown.code, 0, shown.stderr)
  t.regex(shown.stdout, /aws_secret_access_key = \S+/)
})

test.serial('destroy removes everything, the bucket emptied first; destroying again is a clear error', async (t) => {
  const result = await ncap(['destroy', '--yes'])
  t.is(result.code, 0, result.stderr)
  t.regex(result.stdout, /labpipe: deleted/)
  await t.throwsAsync(client(S3Client).send(new HeadBucketCommand({Bucket: 'labpipe'})))
  await t.throwsAsync(client(IAMClient).send(new GetGroupCommand({GroupName: 'labpipe-lab'})), {name: 'NoSuchEntityException'})
  const again = await ncap(['destroy', '--yes'])
  t.is(again.code, 1)
  t.regex(again.stderr, /stack labpipe does not exist/)
})

test.serial('deploy of an invalid config exits 2 before touching the target', async (t) => {
  const file = join(dir, 'stack_config_template.json')
  const good = await readFile(file, 'utf8')
  const config = JSON.parse(good)
  config.Lambda.LambdaConfig.COMMAND = 'run {} {} {} {} {}'
  await writeFile(file, JSON.stringify(config))
  // An endpoint where nothing listens: any call would fail differently.
  const result = await ncap(['deploy', '--endpoint-url', 'http://127.0.0.1:1', '--yes'])
  t.is(result.code, 2)
  t.regex(result.stderr, /COMMAND/)
  await writeFile(file, good)
})
