/**
 * Secrets Manager on the emulator, through the real SDK v3 client: median
 * latency of GetSecretValue (read, no write) and PutSecretValue (a durable
 * write: temp file, fsync, rename) with 10 and with 1,000 secrets in the
 * state, as ratios to the lightest signed call, STS GetCallerIdentity,
 * measured in the same run on the same server.
 *
 *   node --import=tsx bench/secrets.ts
 */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as sm from '@aws-sdk/client-secrets-manager'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {startServer} from '../src/emulator/server.js'
import {fmt, median, printTable} from './measure.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 200)

async function timed(runs: number, call: (index: number) => Promise<unknown>): Promise<number> {
  for (let index = 0; index < 10; index++) await call(-1 - index)
  const times: number[] = []
  for (let index = 0; index < runs; index++) {
    const start = process.hrtime.bigint()
    await call(index)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return median(times)
}

const work = await mkdtemp(join(tmpdir(), 'ncap-bench-secrets-'))
const server = await startServer({stateDir: join(work, 'state'), port: 0})
try {
  const config = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    maxAttempts: 1,
  }
  const secrets = new sm.SecretsManagerClient(config)
  const sts = new STSClient(config)
  await secrets.send(new sm.CreateSecretCommand({Name: 'bench/one', SecretString: 'x'.repeat(256)}))
  const baseline = await timed(RUNS, () => sts.send(new GetCallerIdentityCommand({})))
  const get10 = await timed(RUNS, () => secrets.send(new sm.GetSecretValueCommand({SecretId: 'bench/one'})))
  const put10 = await timed(RUNS, (index) => secrets.send(new sm.PutSecretValueCommand({SecretId: 'bench/one', SecretString: `v${index}`})))
  for (let index = 0; index < 1000; index++)
    await secrets.send(new sm.CreateSecretCommand({Name: `bench/many-${index}`, SecretString: 'y'.repeat(256)}))
  const get1000 = await timed(RUNS, () => secrets.send(new sm.GetSecretValueCommand({SecretId: 'bench/many-500'})))
  const put1000 = await timed(RUNS, (index) =>
    secrets.send(new sm.PutSecretValueCommand({SecretId: 'bench/many-500', SecretString: `w${index}`})),
  )
  printTable(`Secrets Manager, median ms over ${RUNS} calls (baseline: STS GetCallerIdentity)`, [
    ['call', 'ms', '× baseline'],
    ['GetCallerIdentity (baseline)', fmt(baseline, 2), '1.00'],
    ['GetSecretValue, 1 secret', fmt(get10, 2), fmt(get10 / baseline, 2)],
    ['PutSecretValue, 1 secret (durable)', fmt(put10, 2), fmt(put10 / baseline, 2)],
    ['GetSecretValue, 1,001 secrets', fmt(get1000, 2), fmt(get1000 / baseline, 2)],
    ['PutSecretValue, 1,001 secrets (durable)', fmt(put1000, 2), fmt(put1000 / baseline, 2)],
  ])
} finally {
  await server.close()
}
