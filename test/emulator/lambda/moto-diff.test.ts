/**
 * Differential against moto_server on describe shapes where moto is right: the
 * same CreateFunction, GetFunctionConfiguration, ListFunctions, AddPermission and
 * GetPolicy calls through the SDK v3 client to both, comparing the members and
 * values that do not depend on time, ids or hashes. Skipped when moto_server is
 * absent. (moto invokes functions in Docker, so Invoke is not compared.)
 */
import * as iam from '@aws-sdk/client-iam'
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import {hasMoto, type RunningMoto, startMoto} from '../../helpers/moto.js'
import {credentials, type Emulator, emulator, region, TRUST_LAMBDA, zipOf} from './helpers.js'

const moto = hasMoto()
if (!moto) console.log('Skipping the Lambda differential tests: moto_server is not installed.')
const diff = moto ? test.serial : test.skip

let emu: Emulator
let peer: RunningMoto
const clients: Record<'ncap' | 'moto', {lambda: lambda.LambdaClient; iam: iam.IAMClient}> = {} as never

test.before(async () => {
  if (!moto) return
  emu = await emulator()
  peer = await startMoto({env: {MOTO_ACCOUNT_ID: '000000000000'}})
  for (const [name, endpoint] of [
    ['ncap', emu.server.endpoint],
    ['moto', peer.endpoint],
  ] as const) {
    const config = {endpoint, region, credentials}
    clients[name] = {lambda: new lambda.LambdaClient(config), iam: new iam.IAMClient(config)}
  }
})
test.after.always(async () => {
  await emu?.close()
  await peer?.stop()
})

async function both<T>(run: (c: {lambda: lambda.LambdaClient; iam: iam.IAMClient}) => Promise<T>): Promise<{ncap: T; moto: T}> {
  return {ncap: await run(clients.ncap), moto: await run(clients.moto)}
}

const STABLE = [
  'FunctionName',
  'FunctionArn',
  'Runtime',
  'Role',
  'Handler',
  'CodeSize',
  'Description',
  'Timeout',
  'MemorySize',
  'Version',
  'PackageType',
  'Environment',
]
const pick = (config: Record<string, unknown>) => Object.fromEntries(STABLE.filter((key) => key in config).map((key) => [key, config[key]]))

diff('CreateFunction, GetFunctionConfiguration and ListFunctions agree with moto on the stable members', async (t) => {
  const zip = await zipOf({'index.mjs': 'export const handler = async () => 1\n'})
  const roles = await both((c) => c.iam.send(new iam.CreateRoleCommand({RoleName: 'diff-role', AssumeRolePolicyDocument: TRUST_LAMBDA})))
  t.is(roles.ncap.Role?.Arn, roles.moto.Role?.Arn)
  const input = {
    FunctionName: 'diff-fn',
    Runtime: 'nodejs22.x' as const,
    Role: roles.ncap.Role!.Arn!,
    Handler: 'index.handler',
    Description: 'compared',
    Timeout: 12,
    MemorySize: 512,
    Environment: {Variables: {K: 'v'}},
    Code: {ZipFile: zip},
  }
  const made = await both((c) => c.lambda.send(new lambda.CreateFunctionCommand(input)))
  const strip = ({$metadata: _, ...rest}: {$metadata?: unknown}) => rest as Record<string, unknown>
  t.deepEqual(pick(strip(made.ncap)), pick(strip(made.moto)))
  t.is(made.ncap.CodeSha256, made.moto.CodeSha256, 'the same zip hashes the same')
  const got = await both((c) => c.lambda.send(new lambda.GetFunctionConfigurationCommand({FunctionName: 'diff-fn'})))
  t.deepEqual(pick(strip(got.ncap)), pick(strip(got.moto)))
  const listed = await both((c) => c.lambda.send(new lambda.ListFunctionsCommand({})))
  t.deepEqual(
    listed.ncap.Functions?.map((f) => pick(f as Record<string, unknown>)),
    listed.moto.Functions?.map((f) => pick(f as Record<string, unknown>)),
  )
})

diff('AddPermission statements and GetPolicy documents agree with moto', async (t) => {
  const added = await both((c) =>
    c.lambda.send(
      new lambda.AddPermissionCommand({
        FunctionName: 'diff-fn',
        StatementId: 'from-s3',
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        SourceArn: 'arn:aws:s3:::diff-bucket',
        SourceAccount: '000000000000',
      }),
    ),
  )
  // moto's account id may differ from ours (123456789012): compare with it replaced.
  const normal = (text: string | undefined) => JSON.parse((text ?? '{}').replaceAll('123456789012', '000000000000'))
  t.deepEqual(normal(added.ncap.Statement), normal(added.moto.Statement))
  const policy = await both((c) => c.lambda.send(new lambda.GetPolicyCommand({FunctionName: 'diff-fn'})))
  const ncapDoc = normal(policy.ncap.Policy)
  const motoDoc = normal(policy.moto.Policy)
  t.is(ncapDoc.Version, motoDoc.Version)
  t.deepEqual(ncapDoc.Statement, motoDoc.Statement)
  const missing = await Promise.allSettled(
    [clients.ncap.lambda, clients.moto.lambda].map((c) => c.send(new lambda.GetFunctionCommand({FunctionName: 'diff-none'}))),
  )
  t.deepEqual(
    missing.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'ok')),
    ['ResourceNotFoundException', 'ResourceNotFoundException'],
  )
})
