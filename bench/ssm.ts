/**
 * SSM and instance benchmarks (standalone: node --import=tsx bench/ssm.ts):
 *
 * 1. SendCommand → the command's process running inside a running instance,
 *    beside a bare `spawn` of the same script in the same run (the baseline).
 * 2. RunInstances → the instance's first process (its user data) running.
 * 3. Disk used per instance for a 1 GB image launched 10 times (overlay: only
 *    what the instance writes is its own).
 *
 * "Running" is when the script's first command reads the clock (date +%s%N).
 */
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
} from '@aws-sdk/client-ec2'
import {AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {GetCommandInvocationCommand, SendCommandCommand, SSMClient} from '@aws-sdk/client-ssm'
import {startServer} from '../src/emulator/server.js'
import {registerImage} from '../src/emulator/services/ec2/images.js'
import {fmt, median, printTable} from './measure.js'

const ROUNDS = Number(process.env.SSM_BENCH_ROUNDS ?? 15)
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'
const nowNs = () => process.hrtime.bigint()

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function bareSpawn(dir: string): Promise<number> {
  const file = join(dir, `bare-${Math.random()}`)
  const start = Date.now()
  await new Promise<void>((resolve) => {
    const child = spawn('bash', ['-c', `date +%s%3N > ${file}`], {stdio: 'ignore'})
    child.once('close', () => resolve())
  })
  return Number(readFileSync(file, 'utf8').trim()) - start
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ncap-bench-ssm-'))
  const stateDir = join(work, 'state')
  const imageDir = join(work, 'image')
  await mkdir(join(imageDir, 'bin'), {recursive: true})
  await writeFile(join(imageDir, 'bin', 'run.sh'), '#!/bin/bash\necho ok\n')
  const small = await registerImage(stateDir, {dir: imageDir, name: 'bench-small'})
  // The 1 GB image: ten 100 MB files with real blocks (fallocate), so du counts them.
  const bigDir = join(work, 'big')
  await mkdir(bigDir, {recursive: true})
  for (let i = 0; i < 10; i++) spawnSync('fallocate', ['-l', String(100 * 1024 * 1024), join(bigDir, `part-${i}.bin`)])
  const big = await registerImage(stateDir, {dir: bigDir, name: 'bench-big'})
  const server = await startServer({stateDir, port: 0, log: () => {}})
  const endpoint = server.endpoint
  const iam = new IAMClient({region, endpoint, credentials})
  const ec2 = new EC2Client({region, endpoint, credentials})
  const ssm = new SSMClient({region, endpoint, credentials})
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'bench-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
        }),
      }),
    )
    await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: 'bench-profile'}))
    await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: 'bench-profile', RoleName: 'bench-role'}))

    // 1. SendCommand → process running, vs a bare spawn.
    const {Instances} = await ec2.send(
      new RunInstancesCommand({ImageId: small.ImageId, MinCount: 1, MaxCount: 1, IamInstanceProfile: {Name: 'bench-profile'}}),
    )
    const instanceId = Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1}, {InstanceIds: [instanceId]})
    const viaSsm: number[] = []
    const bare: number[] = []
    for (let round = 0; round < ROUNDS + 2; round++) {
      const start = Date.now()
      const {Command} = await ssm.send(
        new SendCommandCommand({DocumentName: 'AWS-RunShellScript', InstanceIds: [instanceId], Parameters: {commands: ['date +%s%3N']}}),
      )
      const view = await until(async () => {
        const got = await ssm.send(new GetCommandInvocationCommand({CommandId: Command!.CommandId, InstanceId: instanceId}))
        return got.Status === 'Success' ? got : undefined
      })
      const elapsed = Number(view.StandardOutputContent!.trim()) - start
      if (round >= 2) viaSsm.push(elapsed)
      const baseline = await bareSpawn(work)
      if (round >= 2) bare.push(baseline)
    }

    // 2. RunInstances → user data running.
    const boots: number[] = []
    for (let round = 0; round < Math.min(ROUNDS, 8); round++) {
      const start = Date.now()
      const userData = Buffer.from('#!/bin/bash\ndate +%s%3N > /home/ubuntu/booted-at\n').toString('base64')
      const run = await ec2.send(new RunInstancesCommand({ImageId: small.ImageId, MinCount: 1, MaxCount: 1, UserData: userData}))
      const id = run.Instances![0]!.InstanceId!
      const stamp = await until(
        async () => readFileSync(join(stateDir, 'ec2', 'instances', id, 'upper', 'booted-at'), 'utf8').trim() || undefined,
      )
      boots.push(Number(stamp) - start)
      await ec2.send(new TerminateInstancesCommand({InstanceIds: [id]}))
    }

    // 3. A 1 GB image launched 10 times: disk per instance.
    const launched = await ec2.send(new RunInstancesCommand({ImageId: big.ImageId, MinCount: 10, MaxCount: 10}))
    const ids = launched.Instances!.map((instance) => instance.InstanceId!)
    await waitUntilInstanceRunning({client: ec2, maxWaitTime: 120, minDelay: 1, maxDelay: 1}, {InstanceIds: ids})
    const du = (path: string) => Number(spawnSync('du', ['-sk', path], {encoding: 'utf8'}).stdout.split('\t')[0])
    const imageKb = du(bigDir)
    const perInstance = ids.map((id) => du(join(stateDir, 'ec2', 'instances', id)))
    const described = await ec2.send(new DescribeInstancesCommand({InstanceIds: ids}))
    const running = described.Reservations!.flatMap((r) => r.Instances!).filter((i) => i.State?.Name === 'running').length

    const ssmMs = median(viaSsm)
    const bareMs = median(bare)
    printTable(`SSM / instances (median of ${viaSsm.length}; ms to the script's first command)`, [
      ['measure', 'median', 'baseline', 'ratio'],
      ['SendCommand → process running', fmt(ssmMs), `bare spawn ${fmt(bareMs)}`, `${fmt(ssmMs / Math.max(bareMs, 0.1))}×`],
      ['RunInstances → user data running', fmt(median(boots)), 'aim ≤ 200', `${fmt(median(boots) / 200, 2)}× aim`],
    ])
    printTable('Disk per instance, 1 GB image launched 10 times (overlayfs upper layer)', [
      ['image KB', 'median KB per instance', 'max KB', 'share of image', 'running'],
      [imageKb, median(perInstance), Math.max(...perInstance), `${fmt((100 * median(perInstance)) / imageKb, 4)}%`, `${running}/10`],
    ])
    await ec2.send(new TerminateInstancesCommand({InstanceIds: [...ids, instanceId]}))
  } finally {
    await server.close()
    // Terminated instances' folders may still be going away: retry, and never fail the bench over a temp folder.
    await rm(work, {recursive: true, force: true, maxRetries: 5, retryDelay: 200}).catch(() => undefined)
  }
}

await main()
