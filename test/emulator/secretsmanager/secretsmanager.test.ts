import {statSync} from 'node:fs'
import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as iam from '@aws-sdk/client-iam'
import * as sm from '@aws-sdk/client-secrets-manager'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import {SecretsState} from '../../../src/emulator/services/secretsmanager/state.js'

let server: RunningServer
let stateDir: string
let client: sm.SecretsManagerClient
const config = (endpoint: string, credentials = {accessKeyId: 'test', secretAccessKey: 'test'}) => ({
  endpoint,
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
})

test.before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ncap-sm-'))
  server = await startServer({stateDir, port: 0})
  client = new sm.SecretsManagerClient(config(server.endpoint))
})
test.after.always(async () => server?.close())

async function rejects(t: import('ava').ExecutionContext, call: Promise<unknown>, name: string, pattern?: RegExp) {
  const error = await t.throwsAsync(call)
  t.is(error?.name, name, error?.message)
  if (pattern) t.regex(error?.message ?? '', pattern)
}

test('create a string secret; read it by name, full ARN (six-character suffix) and partial ARN', async (t) => {
  const created = await client.send(
    new sm.CreateSecretCommand({
      Name: 'app/db',
      SecretString: '{"password":"one"}',
      Description: 'the database',
      KmsKeyId: 'alias/aws/secretsmanager',
      Tags: [{Key: 'team', Value: 'lab'}],
    }),
  )
  t.regex(created.ARN!, /^arn:aws:secretsmanager:us-east-1:000000000000:secret:app\/db-[A-Za-z0-9]{6}$/)
  t.truthy(created.VersionId)
  for (const id of ['app/db', created.ARN!, created.ARN!.slice(0, -7)]) {
    const got = await client.send(new sm.GetSecretValueCommand({SecretId: id}))
    t.is(got.SecretString, '{"password":"one"}', id)
    t.deepEqual(got.VersionStages, ['AWSCURRENT'])
    t.is(got.VersionId, created.VersionId)
    t.true(got.CreatedDate instanceof Date)
  }
  const described = await client.send(new sm.DescribeSecretCommand({SecretId: 'app/db'}))
  t.is(described.Description, 'the database')
  t.is(described.KmsKeyId, 'alias/aws/secretsmanager')
  t.deepEqual(described.Tags, [{Key: 'team', Value: 'lab'}])
  t.deepEqual(described.VersionIdsToStages, {[created.VersionId!]: ['AWSCURRENT']})
  t.true(described.LastAccessedDate instanceof Date)
  await rejects(t, client.send(new sm.CreateSecretCommand({Name: 'app/db', SecretString: 'x'})), 'ResourceExistsException')
  const token = 'retry-token-000000000000000000000001'
  const once = await client.send(new sm.CreateSecretCommand({Name: 'app/retried', SecretString: 'r', ClientRequestToken: token}))
  const twice = await client.send(new sm.CreateSecretCommand({Name: 'app/retried', SecretString: 'r', ClientRequestToken: token}))
  t.deepEqual([twice.ARN, twice.VersionId], [once.ARN, token], 'a retry with the same ClientRequestToken is the same request')
  await rejects(
    t,
    client.send(new sm.CreateSecretCommand({Name: 'app/retried', SecretString: 'other', ClientRequestToken: token})),
    'ResourceExistsException',
  )
  await rejects(t, client.send(new sm.GetSecretValueCommand({SecretId: 'app/nothing'})), 'ResourceNotFoundException')
  await rejects(t, client.send(new sm.GetSecretValueCommand({SecretId: `${created.ARN!.slice(0, -6)}zzzzzz`})), 'ResourceNotFoundException')
})

test('names that are also Object members (constructor, __proto__, toString) are plain secret names, by name and by ARN', async (t) => {
  for (const name of ['constructor', '__proto__', 'toString']) {
    await rejects(t, client.send(new sm.GetSecretValueCommand({SecretId: name})), 'ResourceNotFoundException')
    const created = await client.send(new sm.CreateSecretCommand({Name: name, SecretString: `value of ${name}`}))
    for (const id of [name, created.ARN!, created.ARN!.slice(0, -7)])
      t.is((await client.send(new sm.GetSecretValueCommand({SecretId: id}))).SecretString, `value of ${name}`, id)
  }
  const listed = await client.send(new sm.ListSecretsCommand({Filters: [{Key: 'name', Values: ['constructor', '__proto__', 'toString']}]}))
  t.deepEqual(listed.SecretList?.map((x) => x.Name).sort(), ['__proto__', 'constructor', 'toString'])
})

test('binary secrets round-trip; both kinds at once refused', async (t) => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255])
  await client.send(new sm.CreateSecretCommand({Name: 'bin', SecretBinary: bytes}))
  const got = await client.send(new sm.GetSecretValueCommand({SecretId: 'bin'}))
  t.deepEqual(Buffer.from(got.SecretBinary!), Buffer.from(bytes))
  t.is(got.SecretString, undefined)
  await rejects(
    t,
    client.send(new sm.CreateSecretCommand({Name: 'both', SecretBinary: bytes, SecretString: 'x'})),
    'InvalidParameterException',
  )
})

test('PutSecretValue rotates AWSCURRENT to AWSPREVIOUS; ClientRequestToken is idempotent; read by stage and id', async (t) => {
  const first = await client.send(new sm.CreateSecretCommand({Name: 'rot', SecretString: 'v1'}))
  const token = 'a'.repeat(32)
  const second = await client.send(new sm.PutSecretValueCommand({SecretId: 'rot', SecretString: 'v2', ClientRequestToken: token}))
  t.is(second.VersionId, token)
  t.deepEqual(second.VersionStages, ['AWSCURRENT'])
  const again = await client.send(new sm.PutSecretValueCommand({SecretId: 'rot', SecretString: 'v2', ClientRequestToken: token}))
  t.is(again.VersionId, token)
  await rejects(
    t,
    client.send(new sm.PutSecretValueCommand({SecretId: 'rot', SecretString: 'other', ClientRequestToken: token})),
    'ResourceExistsException',
  )
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot'}))).SecretString, 'v2')
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionStage: 'AWSPREVIOUS'}))).SecretString, 'v1')
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionId: first.VersionId}))).SecretString, 'v1')
  await client.send(new sm.PutSecretValueCommand({SecretId: 'rot', SecretString: 'v3', VersionStages: ['PENDING']}))
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionStage: 'PENDING'}))).SecretString, 'v3')
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot'}))).SecretString, 'v2', 'a custom stage leaves AWSCURRENT')
  await rejects(t, client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionStage: 'NOPE'})), 'ResourceNotFoundException')
  await rejects(
    t,
    client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionId: first.VersionId, VersionStage: 'AWSCURRENT'})),
    'ResourceNotFoundException',
  )
  // A third AWSCURRENT: v1 loses every label and is listed only as deprecated.
  await client.send(new sm.PutSecretValueCommand({SecretId: 'rot', SecretString: 'v4'}))
  const listed = await client.send(new sm.ListSecretVersionIdsCommand({SecretId: 'rot'}))
  t.false(listed.Versions!.some((version) => version.VersionId === first.VersionId))
  const all = await client.send(new sm.ListSecretVersionIdsCommand({SecretId: 'rot', IncludeDeprecated: true}))
  t.true(all.Versions!.some((version) => version.VersionId === first.VersionId && version.VersionStages!.length === 0))
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'rot', VersionStage: 'AWSPREVIOUS'}))).SecretString, 'v2')
})

test('UpdateSecretVersionStage moves labels as AWS does, and refuses what AWS refuses', async (t) => {
  const a = await client.send(new sm.CreateSecretCommand({Name: 'stages', SecretString: 'a'}))
  const b = await client.send(new sm.PutSecretValueCommand({SecretId: 'stages', SecretString: 'b', VersionStages: ['NEXT']}))
  await rejects(
    t,
    client.send(new sm.UpdateSecretVersionStageCommand({SecretId: 'stages', VersionStage: 'AWSCURRENT', MoveToVersionId: b.VersionId})),
    'InvalidParameterException',
    /RemoveFromVersionId/,
  )
  await client.send(
    new sm.UpdateSecretVersionStageCommand({
      SecretId: 'stages',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: b.VersionId,
      RemoveFromVersionId: a.VersionId,
    }),
  )
  const described = await client.send(new sm.DescribeSecretCommand({SecretId: 'stages'}))
  t.deepEqual(described.VersionIdsToStages![b.VersionId!]!.sort(), ['AWSCURRENT', 'NEXT'])
  t.deepEqual(described.VersionIdsToStages![a.VersionId!], ['AWSPREVIOUS'])
  await client.send(new sm.UpdateSecretVersionStageCommand({SecretId: 'stages', VersionStage: 'NEXT', RemoveFromVersionId: b.VersionId}))
  t.deepEqual((await client.send(new sm.DescribeSecretCommand({SecretId: 'stages'}))).VersionIdsToStages![b.VersionId!], ['AWSCURRENT'])
  await rejects(
    t,
    client.send(new sm.UpdateSecretVersionStageCommand({SecretId: 'stages', VersionStage: 'AWSCURRENT', RemoveFromVersionId: b.VersionId})),
    'InvalidParameterException',
  )
})

test('UpdateSecret changes the description and, with a value, makes a new current version', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'upd', SecretString: 'one'}))
  const noValue = await client.send(new sm.UpdateSecretCommand({SecretId: 'upd', Description: 'new words'}))
  t.is(noValue.VersionId, undefined)
  const withValue = await client.send(new sm.UpdateSecretCommand({SecretId: 'upd', SecretString: 'two'}))
  t.truthy(withValue.VersionId)
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'upd'}))).SecretString, 'two')
  t.is((await client.send(new sm.DescribeSecretCommand({SecretId: 'upd'}))).Description, 'new words')
})

test('delete with a recovery window: refused while scheduled, listed only on request, restored; force delete; window bounds', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'gone', SecretString: 's'}))
  await rejects(t, client.send(new sm.DeleteSecretCommand({SecretId: 'gone', RecoveryWindowInDays: 6})), 'InvalidParameterException')
  await rejects(t, client.send(new sm.DeleteSecretCommand({SecretId: 'gone', RecoveryWindowInDays: 31})), 'InvalidParameterException')
  await rejects(
    t,
    client.send(new sm.DeleteSecretCommand({SecretId: 'gone', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true})),
    'InvalidParameterException',
  )
  const before = server.clock.now()
  const deleted = await client.send(new sm.DeleteSecretCommand({SecretId: 'gone', RecoveryWindowInDays: 7}))
  const window = deleted.DeletionDate!.getTime() - before
  t.true(Math.abs(window - 7 * 86_400_000) < 60_000, `window ${window}`)
  await rejects(t, client.send(new sm.GetSecretValueCommand({SecretId: 'gone'})), 'InvalidRequestException', /marked for deletion/)
  await rejects(t, client.send(new sm.PutSecretValueCommand({SecretId: 'gone', SecretString: 'x'})), 'InvalidRequestException')
  await rejects(t, client.send(new sm.DeleteSecretCommand({SecretId: 'gone'})), 'InvalidRequestException')
  await rejects(t, client.send(new sm.CreateSecretCommand({Name: 'gone', SecretString: 'x'})), 'InvalidRequestException')
  t.truthy((await client.send(new sm.DescribeSecretCommand({SecretId: 'gone'}))).DeletedDate)
  const names = async (include: boolean) =>
    (await client.send(new sm.ListSecretsCommand({IncludePlannedDeletion: include}))).SecretList!.map((secret) => secret.Name)
  t.false((await names(false)).includes('gone'))
  t.true((await names(true)).includes('gone'))
  await client.send(new sm.RestoreSecretCommand({SecretId: 'gone'}))
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'gone'}))).SecretString, 's')
  await client.send(new sm.DeleteSecretCommand({SecretId: 'gone', ForceDeleteWithoutRecovery: true}))
  await rejects(t, client.send(new sm.DescribeSecretCommand({SecretId: 'gone'})), 'ResourceNotFoundException')
  await client.send(new sm.CreateSecretCommand({Name: 'gone', SecretString: 'again'}))
})

test.serial('the recovery window runs on the emulator clock: past it the secret is gone and the name is free', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'windowed', SecretString: 's'}))
  await client.send(new sm.DeleteSecretCommand({SecretId: 'windowed', RecoveryWindowInDays: 7}))
  const purged: string[] = []
  const stop = server.events.subscribe((event) => {
    if (event.kind === 'secretsmanager.purge') purged.push(event.resource ?? '')
  })
  const advanced = await server.clock.advance(8 * 86_400_000)
  stop()
  t.true(advanced.fired >= 1, 'the recovery window ends on a clock timer')
  t.true(
    purged.some((arn) => arn.includes(':secret:windowed-')),
    'the deletion is in the event record as it happens',
  )
  await rejects(t, client.send(new sm.DescribeSecretCommand({SecretId: 'windowed'})), 'ResourceNotFoundException')
  await client.send(new sm.CreateSecretCommand({Name: 'windowed', SecretString: 'fresh'}))
  t.is((await client.send(new sm.GetSecretValueCommand({SecretId: 'windowed'}))).SecretString, 'fresh')
})

test('ListSecrets: filters by name, description, tag key and value, all, negation; pagination', async (t) => {
  for (const [name, description, tag] of [
    ['lab/alpha', 'Alpha database', 'owner'],
    ['lab/beta', 'beta cache', 'cost'],
    ['other/gamma', 'Gamma queue', 'owner'],
  ] as const)
    await client.send(
      new sm.CreateSecretCommand({Name: name, SecretString: 'x', Description: description, Tags: [{Key: tag, Value: `${name}-v`}]}),
    )
  const names = async (Filters: sm.Filter[]) =>
    (await client.send(new sm.ListSecretsCommand({Filters}))).SecretList!.map((secret) => secret.Name).sort()
  t.deepEqual(await names([{Key: 'name', Values: ['lab/']}]), ['lab/alpha', 'lab/beta'])
  t.deepEqual(await names([{Key: 'name', Values: ['Lab/']}]), [], 'name is case-sensitive')
  t.deepEqual(await names([{Key: 'description', Values: ['alpha']}]), ['lab/alpha'], 'description is not')
  t.deepEqual(await names([{Key: 'tag-key', Values: ['owner']}]), ['lab/alpha', 'other/gamma'])
  t.deepEqual(await names([{Key: 'tag-value', Values: ['lab/beta']}]), ['lab/beta'])
  t.deepEqual(await names([{Key: 'all', Values: ['gamma']}]), ['other/gamma'])
  t.deepEqual(
    await names([
      {Key: 'name', Values: ['lab/']},
      {Key: 'tag-key', Values: ['owner']},
    ]),
    ['lab/alpha'],
    'filters AND',
  )
  t.deepEqual(
    await names([
      {Key: 'name', Values: ['lab/']},
      {Key: 'name', Values: ['!lab/a']},
    ]),
    ['lab/beta'],
  )
  await rejects(
    t,
    client.send(new sm.ListSecretsCommand({Filters: [{Key: 'name' as sm.FilterNameStringType, Values: []}]})),
    'InvalidParameterException',
  )
  const seen: string[] = []
  let NextToken: string | undefined
  do {
    const page = await client.send(new sm.ListSecretsCommand({MaxResults: 2, NextToken}))
    t.true(page.SecretList!.length <= 2)
    seen.push(...page.SecretList!.map((secret) => secret.Name!))
    NextToken = page.NextToken
  } while (NextToken)
  t.is(new Set(seen).size, seen.length)
  t.true(seen.includes('lab/alpha') && seen.includes('other/gamma'))
  await rejects(t, client.send(new sm.ListSecretsCommand({NextToken: 'garbage'})), 'InvalidNextTokenException')
  const sorted = async (SortBy: sm.SortByType, SortOrder: sm.SortOrderType) =>
    (
      await client.send(new sm.ListSecretsCommand({SortBy, SortOrder, Filters: [{Key: 'name', Values: ['lab/', 'other/']}]}))
    ).SecretList!.map((secret) => secret.Name)
  t.deepEqual(await sorted('name', 'desc'), ['other/gamma', 'lab/beta', 'lab/alpha'])
  t.deepEqual(await sorted('created-date', 'asc'), ['lab/alpha', 'lab/beta', 'other/gamma'])
})

test('GetRandomPassword: AWS defaults and every option', async (t) => {
  const plain = (await client.send(new sm.GetRandomPasswordCommand({}))).RandomPassword!
  t.is(plain.length, 32)
  t.regex(plain, /[a-z]/)
  t.regex(plain, /[A-Z]/)
  t.regex(plain, /[0-9]/)
  t.regex(plain, /[^a-zA-Z0-9]/)
  t.notRegex(plain, / /)
  const digits = (
    await client.send(
      new sm.GetRandomPasswordCommand({PasswordLength: 50, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true}),
    )
  ).RandomPassword!
  t.regex(digits, /^[0-9]{50}$/)
  const spaced = (
    await client.send(
      new sm.GetRandomPasswordCommand({
        PasswordLength: 6,
        ExcludeNumbers: true,
        ExcludePunctuation: true,
        ExcludeUppercase: true,
        IncludeSpace: true,
        ExcludeCharacters: 'abcdefghijklmnopqrstuvwxy',
      }),
    )
  ).RandomPassword!
  t.regex(spaced, /^[z ]{6}$/)
  t.true(spaced.includes(' ') && spaced.includes('z'), 'RequireEachIncludedType puts each type in')
  await rejects(
    t,
    client.send(
      new sm.GetRandomPasswordCommand({ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true}),
    ),
    'InvalidParameterException',
  )
  await rejects(t, client.send(new sm.GetRandomPasswordCommand({PasswordLength: 3})), 'InvalidParameterException')
  const loose = await client.send(new sm.GetRandomPasswordCommand({PasswordLength: 3, RequireEachIncludedType: false}))
  t.is(loose.RandomPassword!.length, 3)
})

test('tags and resource policies', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'tagged', SecretString: 'x', Tags: [{Key: 'a', Value: '1'}]}))
  await client.send(
    new sm.TagResourceCommand({
      SecretId: 'tagged',
      Tags: [
        {Key: 'a', Value: '2'},
        {Key: 'b', Value: '3'},
      ],
    }),
  )
  await client.send(new sm.UntagResourceCommand({SecretId: 'tagged', TagKeys: ['b']}))
  t.deepEqual((await client.send(new sm.DescribeSecretCommand({SecretId: 'tagged'}))).Tags, [{Key: 'a', Value: '2'}])
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'secretsmanager:GetSecretValue', Resource: '*'},
    ],
  })
  await client.send(new sm.PutResourcePolicyCommand({SecretId: 'tagged', ResourcePolicy: policy}))
  t.is((await client.send(new sm.GetResourcePolicyCommand({SecretId: 'tagged'}))).ResourcePolicy, policy)
  const validated = await client.send(new sm.ValidateResourcePolicyCommand({SecretId: 'tagged', ResourcePolicy: policy}))
  t.true(validated.PolicyValidationPassed)
  await rejects(
    t,
    client.send(new sm.PutResourcePolicyCommand({SecretId: 'tagged', ResourcePolicy: '{"Statement": ['})),
    'MalformedPolicyDocumentException',
  )
  const open = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*'}],
  })
  await rejects(
    t,
    client.send(new sm.PutResourcePolicyCommand({SecretId: 'tagged', ResourcePolicy: open, BlockPublicPolicy: true})),
    'PublicPolicyException',
  )
  await client.send(new sm.DeleteResourcePolicyCommand({SecretId: 'tagged'}))
  t.is((await client.send(new sm.GetResourcePolicyCommand({SecretId: 'tagged'}))).ResourcePolicy, undefined)
})

test('BatchGetSecretValue by ids and by filter, with per-secret errors', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'batch/one', SecretString: '1'}))
  await client.send(new sm.CreateSecretCommand({Name: 'batch/two', SecretString: '2'}))
  const byIds = await client.send(new sm.BatchGetSecretValueCommand({SecretIdList: ['batch/one', 'batch/missing']}))
  t.deepEqual(
    byIds.SecretValues!.map((value) => value.SecretString),
    ['1'],
  )
  t.is(byIds.Errors![0]!.ErrorCode, 'ResourceNotFoundException')
  const byFilter = await client.send(new sm.BatchGetSecretValueCommand({Filters: [{Key: 'name', Values: ['batch/']}]}))
  t.deepEqual(byFilter.SecretValues!.map((value) => value.Name).sort(), ['batch/one', 'batch/two'])
})

test('IAM decides: a user allowed only one secret is refused the others with AccessDeniedException; a resource policy can grant', async (t) => {
  const admin = new iam.IAMClient(config(server.endpoint))
  const mine = await client.send(new sm.CreateSecretCommand({Name: 'iam/mine', SecretString: 'mine'}))
  await client.send(new sm.CreateSecretCommand({Name: 'iam/theirs', SecretString: 'theirs'}))
  const shared = await client.send(new sm.CreateSecretCommand({Name: 'iam/shared', SecretString: 'shared'}))
  await admin.send(new iam.CreateUserCommand({UserName: 'reader'}))
  await admin.send(
    new iam.PutUserPolicyCommand({
      UserName: 'reader',
      PolicyName: 'one',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: mine.ARN}],
      }),
    }),
  )
  const key = (await admin.send(new iam.CreateAccessKeyCommand({UserName: 'reader'}))).AccessKey!
  const reader = new sm.SecretsManagerClient(
    config(server.endpoint, {accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey!}),
  )
  t.is((await reader.send(new sm.GetSecretValueCommand({SecretId: 'iam/mine'}))).SecretString, 'mine')
  await rejects(t, reader.send(new sm.GetSecretValueCommand({SecretId: 'iam/theirs'})), 'AccessDeniedException', /iam\/theirs/)
  await rejects(t, reader.send(new sm.ListSecretsCommand({})), 'AccessDeniedException')
  await client.send(
    new sm.PutResourcePolicyCommand({
      SecretId: 'iam/shared',
      ResourcePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: {AWS: 'arn:aws:iam::000000000000:user/reader'},
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
          },
        ],
      }),
    }),
  )
  t.is((await reader.send(new sm.GetSecretValueCommand({SecretId: shared.ARN}))).SecretString, 'shared')
})

test("condition keys: a policy on secretsmanager:ResourceTag/team allows only the team's secrets", async (t) => {
  const admin = new iam.IAMClient(config(server.endpoint))
  await client.send(new sm.CreateSecretCommand({Name: 'abac/lab', SecretString: 'lab', Tags: [{Key: 'team', Value: 'lab'}]}))
  await client.send(new sm.CreateSecretCommand({Name: 'abac/ops', SecretString: 'ops', Tags: [{Key: 'team', Value: 'ops'}]}))
  await admin.send(new iam.CreateUserCommand({UserName: 'abac'}))
  await admin.send(
    new iam.PutUserPolicyCommand({
      UserName: 'abac',
      PolicyName: 'team',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: {StringEquals: {'secretsmanager:ResourceTag/team': 'lab'}},
          },
        ],
      }),
    }),
  )
  const key = (await admin.send(new iam.CreateAccessKeyCommand({UserName: 'abac'}))).AccessKey!
  const user = new sm.SecretsManagerClient(config(server.endpoint, {accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey!}))
  t.is((await user.send(new sm.GetSecretValueCommand({SecretId: 'abac/lab'}))).SecretString, 'lab')
  await rejects(t, user.send(new sm.GetSecretValueCommand({SecretId: 'abac/ops'})), 'AccessDeniedException')
})

test('unserved operations are refused by name', async (t) => {
  await client.send(new sm.CreateSecretCommand({Name: 'norotate', SecretString: 'x'}))
  await rejects(
    t,
    client.send(new sm.RotateSecretCommand({SecretId: 'norotate', RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:f'})),
    'UnknownOperationException',
    /RotateSecret/,
  )
})

test('state is durable, one 0600 file per secret, and survives a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-sm-restart-'))
  let first = await startServer({stateDir: dir, port: 0})
  try {
    const one = new sm.SecretsManagerClient(config(first.endpoint))
    const created = await one.send(new sm.CreateSecretCommand({Name: 'kept', SecretString: 'durable'}))
    const file = SecretsState.fileOf(dir, 'us-east-1', 'kept')
    t.is(statSync(file).mode & 0o777, 0o600)
    t.true((await readFile(file, 'utf8')).includes('durable'))
    await first.close()
    first = await startServer({stateDir: dir, port: 0})
    const two = new sm.SecretsManagerClient(config(first.endpoint))
    const got = await two.send(new sm.GetSecretValueCommand({SecretId: created.ARN}))
    t.is(got.SecretString, 'durable')
  } finally {
    await first.close()
  }
})
