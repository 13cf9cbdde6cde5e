/**
 * The kill test: the emulator runs as a child process with three instances
 * (real EC2, real sandboxes), each running an SSM command, and is SIGKILLed.
 * No process of those instances is left on the host (checked by their pid
 * namespaces in /proc); after a restart on the same state folder all three are
 * terminated with their state-change events, and their commands ended Failed
 * with their own events.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DescribeInstancesCommand, EC2Client, RunInstancesCommand, waitUntilInstanceRunning} from '@aws-sdk/client-ec2'
import {AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {GetCommandInvocationCommand, ListCommandsCommand, SendCommandCommand, SSMClient} from '@aws-sdk/client-ssm'
import test from 'ava'
import {readEvents} from '../../../src/emulator/event-record.js'
import {startServer} from '../../../src/emulator/server.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {makeImageFolder, until} from '../ec2/helpers.js'

const serverModule = new URL('../../../src/emulator/server.ts', import.meta.url).href
const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'

async function spawnEmulator(stateDir: string): Promise<{child: ChildProcess; endpoint: string}> {
  const code = `const {startServer} = await import(${JSON.stringify(serverModule)}); const s = await startServer({stateDir: process.env.STATE_DIR, port: 0, log: () => {}}); console.log('PORT ' + s.port)`
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    env: {...process.env, STATE_DIR: stateDir},
    stdio: ['ignore', 'pipe', 'inherit'],
  })
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

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Live host processes in any of these pid namespaces. */
function processesIn(namespaces: string[]): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (namespaces.includes(readlinkSync(`/proc/${name}/ns/pid`)) && alive(Number(name))) found.push(Number(name))
    } catch {
      // Gone while scanning.
    }
  }
  return found
}

test('SIGKILL with three instances running SSM commands: nothing of theirs is left; after restart they are terminated and their commands Failed', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-ssm-kill-'))
  t.teardown(() => rm(work, {recursive: true, force: true}))
  const stateDir = join(work, 'state')
  const image = await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'kill-image'})
  const first = await spawnEmulator(stateDir)
  t.teardown(() => {
    if (first.child.exitCode === null) first.child.kill('SIGKILL')
  })
  const iam = new IAMClient({region, endpoint: first.endpoint, credentials})
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'kill-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
      }),
    }),
  )
  await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: 'kill-profile'}))
  await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: 'kill-profile', RoleName: 'kill-role'}))
  const ec2 = new EC2Client({region, endpoint: first.endpoint, credentials})
  const {Instances} = await ec2.send(
    new RunInstancesCommand({ImageId: image.ImageId, MinCount: 3, MaxCount: 3, IamInstanceProfile: {Name: 'kill-profile'}}),
  )
  const ids = Instances!.map((instance) => instance.InstanceId!)
  await waitUntilInstanceRunning({client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1}, {InstanceIds: ids})
  const ssm = new SSMClient({region, endpoint: first.endpoint, credentials})
  const {Command} = await ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: ids,
      Parameters: {commands: ['readlink /proc/self/ns/pid > /home/ubuntu/ns', 'setsid sleep 900 &', 'sleep 901']},
    }),
  )
  const commandId = Command!.CommandId!
  // Each instance's /home/ubuntu is its overlay: the pid namespace it wrote lands in its upper layer on the host.
  const namespaces = await until(
    'the commands to start in all three instances',
    async () =>
      ids.map((id) => {
        try {
          return readFileSync(join(stateDir, 'ec2', 'instances', id, 'upper', 'ns'), 'utf8').trim()
        } catch {
          return ''
        }
      }),
    (list) => list.every(Boolean),
  )
  t.true(processesIn(namespaces).length >= 9, 'init, the script and two sleeps in each instance')

  const exited = new Promise((resolve) => first.child.once('exit', resolve))
  first.child.kill('SIGKILL')
  await exited
  const left = await until(
    'the instances processes to end',
    async () => processesIn(namespaces),
    (pids) => pids.length === 0,
    10_000,
  ).catch(() => processesIn(namespaces))
  t.deepEqual(left, [], 'no process of an instance outlives the emulator')

  const second = await startServer({stateDir, port: 0, log: () => {}})
  t.teardown(() => second.close())
  const after = {region, endpoint: second.endpoint, credentials}
  const ssmAfter = new SSMClient(after)
  const ec2After = new EC2Client(after)
  // Both services reconcile on start (in the background, once the server answers).
  const views = await until(
    'the invocations to end Failed',
    () => Promise.all(ids.map((id) => ssmAfter.send(new GetCommandInvocationCommand({CommandId: commandId, InstanceId: id})))),
    (list) => list.every((view) => view.Status === 'Failed'),
  )
  for (const view of views) {
    t.is(view.ResponseCode, -1)
    t.regex(view.StandardErrorContent ?? '', /emulator restarted/)
  }
  const {Commands} = await ssmAfter.send(new ListCommandsCommand({CommandId: commandId}))
  t.is(Commands?.[0]?.Status, 'Failed')
  t.is(Commands?.[0]?.ErrorCount, 3)
  const {Reservations} = await ec2After.send(new DescribeInstancesCommand({InstanceIds: ids}))
  for (const instance of Reservations!.flatMap((reservation) => reservation.Instances!)) t.is(instance.State?.Name, 'terminated')
  const events = await until(
    'the events on disk',
    () => readEvents(stateDir),
    (list) =>
      ids.every(
        (id) =>
          list.some((e) => e.kind === 'ec2.state-change' && e.correlation?.instanceId === id && e.detail?.state === 'terminated') &&
          list.some((e) => e.kind === 'ssm.command' && e.correlation?.instanceId === id && e.detail?.status === 'Failed'),
      ),
  )
  t.true(
    events.some(
      (e) =>
        e.kind === 'ssm.command' && e.correlation?.commandId === commandId && !e.correlation.instanceId && e.detail?.status === 'Failed',
    ),
  )
})
