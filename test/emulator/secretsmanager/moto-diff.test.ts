/**
 * Differential test: one Secrets Manager sequence against the emulator and
 * against moto_server, answers compared after normalising what differs by
 * design (ARN suffixes, version ids, dates). Where moto differs from AWS, AWS
 * wins: those steps are listed in MOTO_DIFFERS_FROM_AWS with the reason, and
 * AWS's answer is checked on the emulator instead.
 */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as sm from '@aws-sdk/client-secrets-manager'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'
import {hasMoto, startMoto} from '../../helpers/moto.js'

type Outcome = {ok: unknown} | {error: string}

/** Version ids seen so far, by first appearance, so both sides name them alike (v1, v2, …). */
function normalizer() {
  const versions = new Map<string, string>()
  const version = (id: string) => {
    if (!versions.has(id)) versions.set(id, `<v${versions.size + 1}>`)
    return versions.get(id)!
  }
  let listing = false
  const normalize = (value: unknown, key = ''): unknown => {
    if (key === 'SecretList') listing = true
    if (value instanceof Date) return '<date>'
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
    if (Array.isArray(value)) {
      const items = value.map((item) => normalize(item))
      if (key === 'SecretList') listing = false
      // AWS does not promise an order for these lists.
      return key === 'VersionStages' || key === 'Tags' || key === 'TagKeys' ? items.sort() : items
    }
    if (value && typeof value === 'object') {
      const entries = Object.entries(value)
        .filter(([name, item]) => name !== '$metadata' && !(name === 'Tags' && Array.isArray(item) && item.length === 0))
        // moto leaves LastAccessedDate out of ListSecrets entries, where AWS returns it once a secret was read (asserted below).
        .filter(([name]) => !(listing && name === 'LastAccessedDate'))
        .map(
          ([name, item]) =>
            [key === 'VersionIdsToStages' || key === 'SecretVersionsToStages' ? version(name) : name, normalize(item, name)] as const,
        )
      return Object.fromEntries(entries.sort(([a], [b]) => String(a).localeCompare(String(b))))
    }
    if (typeof value === 'string') {
      if (key === 'ARN') return value.replace(/-[A-Za-z0-9]{6}$/, '-<suffix>')
      if (key === 'VersionId') return version(value)
    }
    return value
  }
  return normalize
}

async function outcome(call: Promise<unknown>, normalize: (value: unknown) => unknown): Promise<Outcome> {
  try {
    return {ok: normalize(await call)}
  } catch (error) {
    return {error: (error as Error).name}
  }
}

const TOKEN = 'differential-token-00000000000000001'

function sequence(endpoint: string): [string, () => Promise<unknown>][] {
  const c = new sm.SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    maxAttempts: 1,
  })
  const send =
    <T>(command: T) =>
    () =>
      c.send(command as never) as Promise<unknown>
  return [
    [
      'CreateSecret',
      send(
        new sm.CreateSecretCommand({
          Name: 'lab/db',
          SecretString: '{"password":"one"}',
          Description: 'db',
          Tags: [{Key: 'team', Value: 'lab'}],
        }),
      ),
    ],
    ['CreateSecret duplicate', send(new sm.CreateSecretCommand({Name: 'lab/db', SecretString: 'x'}))],
    ['CreateSecret binary', send(new sm.CreateSecretCommand({Name: 'lab/bin', SecretBinary: new Uint8Array([1, 2, 3])}))],
    ['GetSecretValue', send(new sm.GetSecretValueCommand({SecretId: 'lab/db'}))],
    ['GetSecretValue binary', send(new sm.GetSecretValueCommand({SecretId: 'lab/bin'}))],
    ['GetSecretValue missing', send(new sm.GetSecretValueCommand({SecretId: 'lab/none'}))],
    ['PutSecretValue', send(new sm.PutSecretValueCommand({SecretId: 'lab/db', SecretString: 'two', ClientRequestToken: TOKEN}))],
    ['PutSecretValue repeated', send(new sm.PutSecretValueCommand({SecretId: 'lab/db', SecretString: 'two', ClientRequestToken: TOKEN}))],
    ['GetSecretValue current', send(new sm.GetSecretValueCommand({SecretId: 'lab/db'}))],
    ['GetSecretValue previous', send(new sm.GetSecretValueCommand({SecretId: 'lab/db', VersionStage: 'AWSPREVIOUS'}))],
    ['GetSecretValue by id', send(new sm.GetSecretValueCommand({SecretId: 'lab/db', VersionId: TOKEN}))],
    ['GetSecretValue stage missing', send(new sm.GetSecretValueCommand({SecretId: 'lab/db', VersionStage: 'NOPE'}))],
    ['UpdateSecret description', send(new sm.UpdateSecretCommand({SecretId: 'lab/db', Description: 'database'}))],
    ['TagResource', send(new sm.TagResourceCommand({SecretId: 'lab/db', Tags: [{Key: 'owner', Value: 'ana'}]}))],
    ['UntagResource', send(new sm.UntagResourceCommand({SecretId: 'lab/db', TagKeys: ['team']}))],
    ['DescribeSecret', send(new sm.DescribeSecretCommand({SecretId: 'lab/db'}))],
    ['ListSecrets name filter', send(new sm.ListSecretsCommand({Filters: [{Key: 'name', Values: ['lab/d']}]}))],
    ['ListSecretVersionIds', send(new sm.ListSecretVersionIdsCommand({SecretId: 'lab/db'}))],
    ['DeleteSecret window too short', send(new sm.DeleteSecretCommand({SecretId: 'lab/db', RecoveryWindowInDays: 3}))],
    ['DeleteSecret', send(new sm.DeleteSecretCommand({SecretId: 'lab/db', RecoveryWindowInDays: 7}))],
    ['GetSecretValue while scheduled', send(new sm.GetSecretValueCommand({SecretId: 'lab/db'}))],
    ['DeleteSecret again', send(new sm.DeleteSecretCommand({SecretId: 'lab/db'}))],
    ['ListSecrets', send(new sm.ListSecretsCommand({}))],
    ['RestoreSecret', send(new sm.RestoreSecretCommand({SecretId: 'lab/db'}))],
    ['GetSecretValue restored', send(new sm.GetSecretValueCommand({SecretId: 'lab/db'}))],
    ['DeleteSecret force', send(new sm.DeleteSecretCommand({SecretId: 'lab/bin', ForceDeleteWithoutRecovery: true}))],
    ['DescribeSecret force-deleted', send(new sm.DescribeSecretCommand({SecretId: 'lab/bin'}))],
    ['GetRandomPassword digits', send(new sm.GetRandomPasswordCommand({PasswordLength: 0}))],
  ]
}

/** Steps where moto answers differently from AWS; the emulator follows AWS. */
const MOTO_DIFFERS_FROM_AWS: Record<string, string> = {
  ListSecretVersionIds:
    "moto answers the name as the ARN, an empty NextToken and no KmsKeyIds; AWS answers the secret's ARN and each version's KmsKeyIds",
  'DeleteSecret again':
    'moto deletes a secret already scheduled for deletion again without complaint; AWS refuses with InvalidRequestException',
}

const AWS_ANSWERS: Record<string, object> = {
  ListSecretVersionIds: {ok: {ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:lab/db-<suffix>', Name: 'lab/db'}},
  'DeleteSecret again': {error: 'InvalidRequestException'},
}

/** Members moto leaves out that AWS returns; dropped from our side before comparing, and asserted present. */
const AWS_ONLY_MEMBERS: Record<string, string[]> = {
  DescribeSecret: ['LastAccessedDate'],
}

test('Secrets Manager sequence: same answers as moto_server after normalising ARN suffixes, version ids and dates', async (t) => {
  if (!hasMoto()) {
    t.log('moto_server is not installed; differential test skipped')
    t.pass()
    return
  }
  const moto = await startMoto({env: {MOTO_ACCOUNT_ID: '000000000000'}})
  t.teardown(() => moto.stop())
  const server = await startServer({stateDir: await mkdtemp(join(tmpdir(), 'ncap-sm-diff-')), port: 0})
  t.teardown(() => server.close())
  const ours = sequence(server.endpoint)
  const theirs = sequence(moto.endpoint)
  const normalizeOurs = normalizer()
  const normalizeTheirs = normalizer()
  let same = 0
  const differences: string[] = []
  for (const [index, [name, call]] of ours.entries()) {
    const mine = await outcome(call(), normalizeOurs)
    const reference = await outcome(theirs[index]![1](), normalizeTheirs)
    if (name in MOTO_DIFFERS_FROM_AWS) {
      t.log(`${name}: moto differs from AWS (${MOTO_DIFFERS_FROM_AWS[name]}); ours ${JSON.stringify(mine)}`)
      t.like(mine as object, AWS_ANSWERS[name]!, `${name}: AWS's answer`)
      continue
    }
    const ourSide = JSON.parse(JSON.stringify(mine)) as {ok?: Record<string, unknown>}
    const theirSide = JSON.parse(JSON.stringify(reference)) as {ok?: Record<string, unknown>}
    for (const member of AWS_ONLY_MEMBERS[name] ?? []) {
      if (ourSide.ok && theirSide.ok && !(member in theirSide.ok)) {
        t.true(member in ourSide.ok, `${name}: AWS returns ${member}`)
        delete ourSide.ok[member]
      }
    }
    if (JSON.stringify(ourSide) === JSON.stringify(theirSide)) same++
    else differences.push(`${name}:\n  ours ${JSON.stringify(ourSide)}\n  moto ${JSON.stringify(theirSide)}`)
  }
  t.log(`${same} of ${ours.length} steps identical to moto_server`)
  const listed = await new sm.SecretsManagerClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  }).send(new sm.ListSecretsCommand({}))
  t.true(
    listed.SecretList!.every((entry) => entry.LastAccessedDate instanceof Date),
    'AWS lists LastAccessedDate of secrets that were read',
  )
  t.deepEqual(differences, [])
})
