/** Parameter Store with the real SDK v3 client: types, versions, selectors, labels, paths, filters, history, tags, and persistence. */
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import test from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

let server: RunningServer
let dir: string
let ssm: SSMClient
const options = () => ({region: 'us-east-1', endpoint: server.endpoint, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ncap-params-'))
  server = await startServer({stateDir: dir})
  ssm = new SSMClient(options())
})

test.after.always(async () => {
  await server?.close()
  await rm(dir, {recursive: true, force: true})
})

const fails = async (promise: Promise<unknown>) =>
  (
    (await promise.then(
      () => undefined,
      (error: Error) => error,
    )) as Error | undefined
  )?.name

test('String, StringList and SecureString: versions, Overwrite, name:version, WithDecryption', async (t) => {
  t.deepEqual(
    await ssm.send(new PutParameterCommand({Name: '/app/db/host', Value: 'db1', Type: 'String'})).then((r) => [r.Version, r.Tier]),
    [1, 'Standard'],
  )
  t.is(await fails(ssm.send(new PutParameterCommand({Name: '/app/db/host', Value: 'db2', Type: 'String'}))), 'ParameterAlreadyExists')
  t.is((await ssm.send(new PutParameterCommand({Name: '/app/db/host', Value: 'db2', Overwrite: true}))).Version, 2)
  const latest = await ssm.send(new GetParameterCommand({Name: '/app/db/host'}))
  t.is(latest.Parameter?.Value, 'db2')
  t.is(latest.Parameter?.ARN, 'arn:aws:ssm:us-east-1:000000000000:parameter/app/db/host')
  const first = await ssm.send(new GetParameterCommand({Name: '/app/db/host:1'}))
  t.is(first.Parameter?.Value, 'db1')
  t.is(first.Parameter?.Selector, ':1')
  t.is(await fails(ssm.send(new GetParameterCommand({Name: '/app/db/host:9'}))), 'ParameterVersionNotFound')
  await ssm.send(new PutParameterCommand({Name: '/app/list', Value: 'a,b,c', Type: 'StringList'}))
  t.is((await ssm.send(new GetParameterCommand({Name: '/app/list'}))).Parameter?.Type, 'StringList')
  await ssm.send(new PutParameterCommand({Name: '/app/db/password', Value: 's3cret', Type: 'SecureString'}))
  const hidden = await ssm.send(new GetParameterCommand({Name: '/app/db/password'}))
  t.not(hidden.Parameter?.Value, 's3cret')
  const shown = await ssm.send(new GetParameterCommand({Name: '/app/db/password', WithDecryption: true}))
  t.is(shown.Parameter?.Value, 's3cret')
  t.is(await fails(ssm.send(new GetParameterCommand({Name: '/app/none'}))), 'ParameterNotFound')
  t.is(await fails(ssm.send(new PutParameterCommand({Name: '/aws/reserved', Value: 'x', Type: 'String'}))), 'ValidationException')
  t.is(await fails(ssm.send(new PutParameterCommand({Name: 'bad name', Value: 'x', Type: 'String'}))), 'ValidationException')
  t.is(
    await fails(ssm.send(new PutParameterCommand({Name: '/app/pattern', Value: 'abc', Type: 'String', AllowedPattern: '^\\d+$'}))),
    'ParameterPatternMismatchException',
  )
  t.is(await fails(ssm.send(new PutParameterCommand({Name: '/app/big', Value: 'x'.repeat(5000), Type: 'String'}))), 'ValidationException')
  t.is(
    (await ssm.send(new PutParameterCommand({Name: '/app/big', Value: 'x'.repeat(5000), Type: 'String', Tier: 'Advanced'}))).Tier,
    'Advanced',
  )
  // The state file holds SecureString values only encrypted, and is private.
  const saved = await readFile(join(dir, 'ssm', 'state.json'), 'utf8')
  t.false(saved.includes('s3cret'))
  t.is((await stat(join(dir, 'ssm', 'state.json'))).mode & 0o777, 0o600)
})

test('GetParameters, GetParametersByPath (recursive, paginated, filtered), DescribeParameters filters', async (t) => {
  for (const name of ['/tree/a', '/tree/b', '/tree/sub/c', '/tree/sub/deep/d', '/other/x']) {
    await ssm.send(new PutParameterCommand({Name: name, Value: `v${name}`, Type: name.endsWith('c') ? 'SecureString' : 'String'}))
  }
  const many = await ssm.send(new GetParametersCommand({Names: ['/tree/a', '/tree/missing', '/tree/sub/c'], WithDecryption: true}))
  t.deepEqual(
    many.Parameters?.map((p) => p.Value),
    ['v/tree/a', 'v/tree/sub/c'],
  )
  t.deepEqual(many.InvalidParameters, ['/tree/missing'])
  const oneLevel = await ssm.send(new GetParametersByPathCommand({Path: '/tree'}))
  t.deepEqual(
    oneLevel.Parameters?.map((p) => p.Name),
    ['/tree/a', '/tree/b'],
  )
  const names: string[] = []
  let token: string | undefined
  do {
    const page = await ssm.send(new GetParametersByPathCommand({Path: '/tree/', Recursive: true, MaxResults: 2, NextToken: token}))
    names.push(...(page.Parameters ?? []).map((p) => p.Name!))
    token = page.NextToken
  } while (token)
  t.deepEqual(names, ['/tree/a', '/tree/b', '/tree/sub/c', '/tree/sub/deep/d'])
  const secure = await ssm.send(
    new GetParametersByPathCommand({Path: '/tree', Recursive: true, ParameterFilters: [{Key: 'Type', Values: ['SecureString']}]}),
  )
  t.deepEqual(
    secure.Parameters?.map((p) => p.Name),
    ['/tree/sub/c'],
  )
  const described = await ssm.send(
    new DescribeParametersCommand({ParameterFilters: [{Key: 'Name', Option: 'BeginsWith', Values: ['/tree/sub']}]}),
  )
  t.deepEqual(
    described.Parameters?.map((p) => p.Name),
    ['/tree/sub/c', '/tree/sub/deep/d'],
  )
  t.is(described.Parameters?.[0]?.KeyId, 'alias/aws/ssm')
  const byPath = await ssm.send(new DescribeParametersCommand({ParameterFilters: [{Key: 'Path', Option: 'OneLevel', Values: ['/tree']}]}))
  t.deepEqual(
    byPath.Parameters?.map((p) => p.Name),
    ['/tree/a', '/tree/b'],
  )
  t.is(await fails(ssm.send(new DescribeParametersCommand({ParameterFilters: [{Key: 'Nope', Values: ['x']}]}))), 'InvalidFilterKey')
})

test('history, labels as selectors, tags, delete', async (t) => {
  await ssm.send(
    new PutParameterCommand({Name: 'plain-name', Value: 'one', Type: 'String', Description: 'first', Tags: [{Key: 'team', Value: 'lab'}]}),
  )
  await ssm.send(new PutParameterCommand({Name: 'plain-name', Value: 'two', Overwrite: true}))
  const history = await ssm.send(new GetParameterHistoryCommand({Name: 'plain-name'}))
  t.deepEqual(
    history.Parameters?.map((p) => [p.Version, p.Value, p.Description]),
    [
      [1, 'one', 'first'],
      [2, 'two', 'first'],
    ],
  )
  const labelled = await ssm.send(new LabelParameterVersionCommand({Name: 'plain-name', ParameterVersion: 1, Labels: ['stable', '1bad']}))
  t.deepEqual(labelled.InvalidLabels, ['1bad'])
  t.is((await ssm.send(new GetParameterCommand({Name: 'plain-name:stable'}))).Parameter?.Value, 'one')
  const tags = await ssm.send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: 'plain-name'}))
  t.deepEqual(tags.TagList, [{Key: 'team', Value: 'lab'}])
  await ssm.send(new AddTagsToResourceCommand({ResourceType: 'Parameter', ResourceId: 'plain-name', Tags: [{Key: 'stage', Value: 'dev'}]}))
  t.is((await ssm.send(new ListTagsForResourceCommand({ResourceType: 'Parameter', ResourceId: 'plain-name'}))).TagList?.length, 2)
  await ssm.send(new DeleteParameterCommand({Name: 'plain-name'}))
  t.is(await fails(ssm.send(new GetParameterCommand({Name: 'plain-name'}))), 'ParameterNotFound')
  t.is(await fails(ssm.send(new DeleteParameterCommand({Name: 'plain-name'}))), 'ParameterNotFound')
  await ssm.send(new PutParameterCommand({Name: '/del/a', Value: 'a', Type: 'String'}))
  const deleted = await ssm.send(new DeleteParametersCommand({Names: ['/del/a', '/del/b']}))
  t.deepEqual([deleted.DeletedParameters, deleted.InvalidParameters], [['/del/a'], ['/del/b']])
})

test('parameters survive a restart of the emulator on the same state folder', async (t) => {
  await ssm.send(new PutParameterCommand({Name: '/persist/secret', Value: 'kept', Type: 'SecureString'}))
  const second = await startServer({stateDir: dir})
  try {
    const client = new SSMClient({...options(), endpoint: second.endpoint})
    t.is((await client.send(new GetParameterCommand({Name: '/persist/secret', WithDecryption: true}))).Parameter?.Value, 'kept')
  } finally {
    await second.close()
  }
})

test('an SSM operation the emulator does not serve is refused by name', async (t) => {
  const {DescribeDocumentCommand} = await import('@aws-sdk/client-ssm')
  const error = await ssm.send(new DescribeDocumentCommand({Name: 'AWS-RunShellScript'})).catch((failure: Error) => failure)
  t.is((error as Error).name, 'UnknownOperationException')
  t.regex((error as Error).message, /does not serve the SSM operation DescribeDocument/)
})
