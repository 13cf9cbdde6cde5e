/**
 * CloudFormation benchmark: create and delete of ncap's compiled stack for the
 * seed example (aim ≤ 1 s each) and of the 2,000-user pipeline with its nested
 * stacks (aim ≤ 30 s each), with the emulator's peak RSS; and, as the peer's
 * figure measured in the same run, moto_server on a small template both can
 * deploy (moto cannot run the seed's Lambda-backed custom resource without
 * Docker), beside the emulator on that same template.
 *
 *   node --import=tsx bench/cloudformation.ts [--runs N] [--no-large] [--large-timeout SECONDS]
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand} from '@aws-sdk/client-cloudformation'
import {S3Client} from '@aws-sdk/client-s3'
import {prepareDeploy} from '../test/emulator/cloudformation/deploy-helpers.js'
import {hasMoto, startMoto} from '../test/helpers/moto.js'
import {largePipeline, seedPipeline} from '../test/template/pipelines.js'
import {fmt, median, printTable} from './measure.js'

const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3
const large = !args.includes('--no-large')
const largeTimeoutMs = Number(args[args.indexOf('--large-timeout') + 1] ?? 600) * 1000 || 600_000

const serverModule = new URL('../src/emulator/server.ts', import.meta.url).href

async function spawnEmulator(stateDir: string): Promise<{child: ChildProcess; endpoint: string}> {
  const code = `const {startServer} = await import(${JSON.stringify(serverModule)}); const s = await startServer({stateDir: process.env.STATE_DIR, port: 0}); console.log('PORT ' + s.port)`
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    env: {...process.env, STATE_DIR: stateDir},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /PORT (\d+)/.exec(out)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (exit) => reject(new Error(`emulator exited early with ${exit}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

/** A process's peak RSS (VmHWM) in MB. */
const peakMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024
function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    // Not allowed here: the peak is then the process's peak so far.
  }
}

/** Waits for the stack to leave IN_PROGRESS (a deleted stack by name answers "does not exist": done). */
async function settle(cfn: CloudFormationClient, name: string, timeoutMs: number): Promise<string> {
  const start = Date.now()
  for (;;) {
    let status: string
    try {
      status = (await cfn.send(new DescribeStacksCommand({StackName: name}))).Stacks![0]!.StackStatus!
    } catch (error) {
      if ((error as Error).message.includes('does not exist')) return 'DELETE_COMPLETE'
      throw error
    }
    if (!status.endsWith('_IN_PROGRESS')) return status
    if (Date.now() - start > timeoutMs) return `${status} (still, after ${timeoutMs / 1000} s)`
    await new Promise((done) => setTimeout(done, 20))
  }
}

interface Cycle {
  createMs: number
  deleteMs: number
  created: string
  deleted: string
}

async function cycle(
  cfn: CloudFormationClient,
  name: string,
  body: string,
  parameters: {ParameterKey: string; ParameterValue: string}[],
  timeoutMs: number,
): Promise<Cycle> {
  let start = process.hrtime.bigint()
  const {StackId} = await cfn.send(
    new CreateStackCommand({StackName: name, TemplateBody: body, Parameters: parameters, Capabilities: ['CAPABILITY_NAMED_IAM']}),
  )
  const created = await settle(cfn, name, timeoutMs)
  const createMs = Number(process.hrtime.bigint() - start) / 1e6
  start = process.hrtime.bigint()
  await cfn.send(new DeleteStackCommand({StackName: StackId ?? name}))
  const deleted = await settle(cfn, name, timeoutMs)
  return {createMs, deleteMs: Number(process.hrtime.bigint() - start) / 1e6, created, deleted}
}

const SMALL = JSON.stringify({
  Parameters: {Env: {Type: 'String', Default: 'dev'}},
  Resources: {
    Bucket: {Type: 'AWS::S3::Bucket', Properties: {BucketName: {'Fn::Sub': 'bench-cfn-${Env}'}}},
    Group: {Type: 'AWS::IAM::Group', Properties: {GroupName: 'bench-cfn-group'}},
    User: {Type: 'AWS::IAM::User', Properties: {UserName: 'bench-cfn-user', Groups: [{Ref: 'Group'}]}},
    Key: {Type: 'AWS::IAM::AccessKey', Properties: {UserName: {Ref: 'User'}}},
  },
  Outputs: {Arn: {Value: {'Fn::GetAtt': ['Bucket', 'Arn']}}},
})

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ncap-bench-cfn-'))
  const {child, endpoint} = await spawnEmulator(dir)
  const cfn = new CloudFormationClient({endpoint, region, credentials})
  const s3 = new S3Client({endpoint, region, credentials, forcePathStyle: true})
  const rows: (string | number)[][] = [['case', 'create ms (median)', 'delete ms (median)', 'outcome', 'emulator peak RSS MB']]
  const push = rows.push.bind(rows)
  rows.push = (...added) => {
    for (const row of added) console.log(`  ${row.join(' | ')}`)
    return push(...added)
  }
  try {
    // The small template, on the emulator and on moto.
    const small: Cycle[] = []
    resetPeak(child.pid!)
    for (let i = 0; i <= runs; i++) {
      const result = await cycle(cfn, 'bench-small', SMALL, [], 60_000)
      if (i > 0) small.push(result)
    }
    rows.push([
      'small (bucket, group, user, key): emulator',
      fmt(median(small.map((r) => r.createMs))),
      fmt(median(small.map((r) => r.deleteMs))),
      `${small[0]!.created} / ${small[0]!.deleted}`,
      fmt(peakMb(child.pid!), 0),
    ])
    let motoCreate = Number.NaN
    let motoDelete = Number.NaN
    if (hasMoto()) {
      const moto = await startMoto()
      try {
        const motoCfn = new CloudFormationClient({endpoint: moto.endpoint, region, credentials})
        const times: Cycle[] = []
        for (let i = 0; i <= runs; i++) {
          const result = await cycle(motoCfn, 'bench-small', SMALL, [], 60_000)
          if (i > 0) times.push(result)
        }
        motoCreate = median(times.map((r) => r.createMs))
        motoDelete = median(times.map((r) => r.deleteMs))
        rows.push(['small: moto_server (peer)', fmt(motoCreate), fmt(motoDelete), `${times[0]!.created} / ${times[0]!.deleted}`, '-'])
      } finally {
        await moto.stop()
      }
    } else rows.push(['small: moto_server (peer)', 'not installed', '', '', ''])

    // The seed example's compiled stack (custom resource through the emulated Lambda included).
    const seed = await prepareDeploy(s3, seedPipeline())
    const seedRuns: Cycle[] = []
    resetPeak(child.pid!)
    for (let i = 0; i <= runs; i++) {
      const result = await cycle(cfn, 'dlcmonitored1', seed.templateBody, seed.parameters, 120_000)
      if (i > 0) seedRuns.push(result)
    }
    rows.push([
      'seed example (30 resources, custom resource)',
      fmt(median(seedRuns.map((r) => r.createMs))),
      fmt(median(seedRuns.map((r) => r.deleteMs))),
      `${seedRuns[0]!.created} / ${seedRuns[0]!.deleted}`,
      fmt(peakMb(child.pid!), 0),
    ])
    rows.push(['seed: moto_server', 'cannot deploy', '', 'Custom::BucketFolders needs Lambda, which moto runs in Docker', ''])

    if (large) {
      const deploy = await prepareDeploy(s3, largePipeline(2000, 200))
      resetPeak(child.pid!)
      console.log(`(2,000 users: ${deploy.nestedCount} nested stacks, waiting up to ${largeTimeoutMs / 1000} s each way)`)
      const result = await cycle(cfn, 'large', deploy.templateBody, deploy.parameters, largeTimeoutMs)
      rows.push([
        `2,000 users, 200 groups (${deploy.nestedCount} nested stacks)`,
        fmt(result.createMs),
        fmt(result.deleteMs),
        `${result.created} / ${result.deleted}`,
        fmt(peakMb(child.pid!), 0),
      ])
    }
    printTable('CloudFormation: stack create and delete through the API, until settled', rows)
    const seedCreate = median(seedRuns.map((r) => r.createMs))
    const smallCreate = median(small.map((r) => r.createMs))
    console.log(
      `\nratios: small template create, emulator/moto ${fmt(smallCreate / motoCreate, 2)}; delete ${fmt(median(small.map((r) => r.deleteMs)) / motoDelete, 2)}; seed create ${fmt(seedCreate / 1000, 2)} s against the 1 s aim`,
    )
  } finally {
    const exited = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await exited
    await rm(dir, {recursive: true, force: true})
  }
}

await main()
