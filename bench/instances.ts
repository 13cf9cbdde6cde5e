/**
 * EC2 instance benchmarks, each beside a baseline measured in this same run (DESIGN §8):
 *  1. RunInstances to the instance's command running (its user data touching a file),
 *     beside a bare `spawn` of the same script: medians of BENCH_LAUNCHES (5).
 *  2. BENCH_FLEET (100) instances each running a 1-second command through SSM, all Success:
 *     RunInstances → all running, SendCommand → all Success, and the emulator's peak RSS.
 *  3. An image of BENCH_IMAGE_MB (1024) MB launched 10 times: disk used per instance.
 * The emulator runs as its own process (its RSS is its own). Figures only, never pass/fail.
 * Run: node --import=tsx bench/instances.ts
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdir, mkdtemp, open, rm, writeFile} from 'node:fs/promises'
import {type AddressInfo, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {registerImage} from '../src/emulator/services/ec2/images.js'
import {fmt, median, printTable} from './measure.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const ec2sdk = await import('@aws-sdk/client-ec2')
const iamsdk = await import('@aws-sdk/client-iam')
const ssmsdk = await import('@aws-sdk/client-ssm')

const env = process.env
const LAUNCHES = Number(env.BENCH_LAUNCHES ?? 5)
const FLEET = Number(env.BENCH_FLEET ?? 100)
const IMAGE_MB = Number(env.BENCH_IMAGE_MB ?? 1024)
const PARTS = new Set((env.BENCH_PARTS ?? 'launch,fleet,disk').split(','))
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))
const work = await mkdtemp(join(tmpdir(), 'ncap-bench-instances-'))
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

const serverModule = new URL('../src/emulator/server.ts', import.meta.url).href

async function spawnEmulator(stateDir: string): Promise<{child: ChildProcess; endpoint: string}> {
  const code = `const {startServer} = await import(${JSON.stringify(serverModule)}); const s = await startServer({stateDir: process.env.STATE_DIR, port: 0, log: () => {}}); console.log('PORT ' + s.port)`
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    env: {...process.env, STATE_DIR: stateDir},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(child)
  const port = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /PORT (\d+)/.exec(out)
      if (match) resolve(match[1]!)
    })
    child.once('exit', (exit) => reject(new Error(`emulator exited early with ${exit}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

async function stopEmulator(child: ChildProcess): Promise<void> {
  const gone = new Promise((done) => child.once('exit', done))
  child.kill('SIGTERM')
  await Promise.race([gone, sleep(10_000)])
  child.kill('SIGKILL')
  children.delete(child)
}

const peakRssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

const clients = (endpoint: string) => {
  const config = {endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}
  return {ec2: new ec2sdk.EC2Client(config), iam: new iamsdk.IAMClient(config), ssm: new ssmsdk.SSMClient(config)}
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, poll = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(poll)
  }
}

async function imageFolder(name: string): Promise<string> {
  const dir = join(work, name)
  await mkdir(join(dir, 'bin'), {recursive: true})
  await writeFile(join(dir, 'bin', 'run.sh'), '#!/bin/bash\necho ok\n', {mode: 0o755})
  return dir
}

const rows: (string | number)[][] = [['figure', 'value', 'baseline (same run)', 'ratio / note']]

// 1. RunInstances → the command's process running, beside a bare spawn.
if (PARTS.has('launch')) {
  const stateDir = join(work, 'launch-state')
  const image = await registerImage(stateDir, {dir: await imageFolder('launch-image'), name: 'bench-launch'})
  const emulator = await spawnEmulator(stateDir)
  const {ec2} = clients(emulator.endpoint)
  // The command reports that it runs over TCP: an instance has its own /tmp and /home/ubuntu, but the host's network.
  const arrivals = new Map<string, number>()
  const listener = createServer((socket) => {
    socket.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n')) if (line) arrivals.set(line.trim(), performance.now())
    })
  })
  await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done))
  const port = (listener.address() as AddressInfo).port
  const script = (tag: string) => `#!/bin/bash\necho ${tag} > /dev/tcp/127.0.0.1/${port}\n`
  const launches: number[] = []
  const spawns: number[] = []
  for (let i = 0; i <= LAUNCHES; i++) {
    const start = performance.now()
    await ec2.send(
      new ec2sdk.RunInstancesCommand({
        ImageId: image.ImageId,
        MinCount: 1,
        MaxCount: 1,
        UserData: Buffer.from(script(`launch-${i}`)).toString('base64'),
      }),
    )
    await waitFor(() => arrivals.has(`launch-${i}`), 30_000)
    const launched = arrivals.get(`launch-${i}`)! - start
    const bareStart = performance.now()
    spawn('bash', ['-c', script(`bare-${i}`)], {stdio: 'ignore'}).unref()
    await waitFor(() => arrivals.has(`bare-${i}`), 10_000, 1)
    const bare = arrivals.get(`bare-${i}`)! - bareStart
    // The first of each is a warm-up (SDK connection, runtime module load).
    if (i > 0) {
      launches.push(launched)
      spawns.push(bare)
    }
  }
  listener.close()
  const launch = median(launches)
  const bare = median(spawns)
  rows.push([
    'RunInstances → command running (ms, median)',
    fmt(launch),
    `bare spawn ${fmt(bare)} ms`,
    `${fmt(launch / bare)}× (aim ≤ 200 ms)`,
  ])
  await stopEmulator(emulator.child)
}

// 2. A fleet of instances each running a 1-second command through SSM.
if (PARTS.has('fleet')) {
  const stateDir = join(work, 'fleet-state')
  const image = await registerImage(stateDir, {dir: await imageFolder('fleet-image'), name: 'bench-fleet'})
  const emulator = await spawnEmulator(stateDir)
  const {ec2, iam, ssm} = clients(emulator.endpoint)
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
  })
  await iam.send(new iamsdk.CreateRoleCommand({RoleName: 'bench', AssumeRolePolicyDocument: trust}))
  await iam.send(new iamsdk.CreateInstanceProfileCommand({InstanceProfileName: 'bench'}))
  await iam.send(new iamsdk.AddRoleToInstanceProfileCommand({InstanceProfileName: 'bench', RoleName: 'bench'}))
  const start = performance.now()
  const {Instances} = await ec2.send(
    new ec2sdk.RunInstancesCommand({ImageId: image.ImageId, MinCount: FLEET, MaxCount: FLEET, IamInstanceProfile: {Name: 'bench'}}),
  )
  const ids = Instances!.map((i) => i.InstanceId!)
  await waitFor(
    async () => {
      const {InstanceStatuses} = await ec2.send(new ec2sdk.DescribeInstanceStatusCommand({InstanceIds: ids}))
      return (InstanceStatuses ?? []).length === ids.length
    },
    120_000,
    20,
  )
  const running = performance.now() - start
  const sendStart = performance.now()
  const commandIds: string[] = []
  for (let at = 0; at < ids.length; at += 50) {
    const {Command} = await ssm.send(
      new ssmsdk.SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: ids.slice(at, at + 50),
        Parameters: {commands: ['sleep 1; echo done']},
      }),
    )
    commandIds.push(Command!.CommandId!)
  }
  let success = 0
  let failed = 0
  await waitFor(
    async () => {
      success = 0
      failed = 0
      for (const CommandId of commandIds) {
        const {CommandInvocations} = await ssm.send(new ssmsdk.ListCommandInvocationsCommand({CommandId}))
        for (const invocation of CommandInvocations ?? []) {
          if (invocation.Status === 'Success') success++
          else if (invocation.Status !== 'Pending' && invocation.Status !== 'InProgress' && invocation.Status !== 'Delayed') failed++
        }
      }
      return success + failed >= ids.length
    },
    120_000,
    20,
  )
  const commands = performance.now() - sendStart
  const rss = peakRssMb(emulator.child.pid!)
  rows.push([`RunInstances ×${FLEET} → all running (ms)`, fmt(running), '', ''])
  rows.push([
    `SendCommand (sleep 1) ×${FLEET} → all Success (ms)`,
    fmt(commands),
    'the command itself: 1000 ms',
    `${success} Success, ${failed} other (aim wall ≤ 3 s)`,
  ])
  rows.push(['emulator peak RSS (MB)', fmt(rss), '', 'aim ≤ 250 MB'])
  await ec2.send(new ec2sdk.TerminateInstancesCommand({InstanceIds: ids}))
  await stopEmulator(emulator.child)
}

// 3. A 1 GB image launched 10 times: what each instance adds on disk.
if (PARTS.has('disk')) {
  const stateDir = join(work, 'disk-state')
  const dir = await imageFolder('big-image')
  const file = await open(join(dir, 'data.bin'), 'w')
  const block = Buffer.alloc(8 * 1024 * 1024, 1)
  for (let written = 0; written < IMAGE_MB * 1024 * 1024; written += block.length) await file.write(block)
  await file.close()
  const image = await registerImage(stateDir, {dir, name: 'bench-big'})
  const emulator = await spawnEmulator(stateDir)
  const {ec2} = clients(emulator.endpoint)
  const du = () => Number(spawnSync('du', ['-sk', stateDir], {encoding: 'utf8'}).stdout.split('\t')[0]) * 1024
  const before = du()
  const {Instances} = await ec2.send(new ec2sdk.RunInstancesCommand({ImageId: image.ImageId, MinCount: 10, MaxCount: 10}))
  const ids = Instances!.map((i) => i.InstanceId!)
  await waitFor(
    async () => {
      const {InstanceStatuses} = await ec2.send(new ec2sdk.DescribeInstanceStatusCommand({InstanceIds: ids}))
      return (InstanceStatuses ?? []).length === ids.length
    },
    120_000,
    20,
  )
  const perInstance = (du() - before) / 10
  const imageBytes = image.SizeBytes
  rows.push([
    `disk per instance of a ${IMAGE_MB} MB image (KB)`,
    fmt(perInstance / 1024),
    `image ${fmt(imageBytes / 1024 / 1024, 0)} MB`,
    `${fmt((perInstance / imageBytes) * 100, 3)}% of the image (aim ≤ 1%)`,
  ])
  await ec2.send(new ec2sdk.TerminateInstancesCommand({InstanceIds: ids}))
  await stopEmulator(emulator.child)
}

printTable('EC2 instances (bench/instances.ts)', rows)
await rm(work, {recursive: true, force: true})
