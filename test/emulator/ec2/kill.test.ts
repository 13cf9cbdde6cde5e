/**
 * Restart reconciliation: the emulator runs as a child process with three
 * instances whose user data leaves a long process running, and is SIGKILLed.
 * No process of those instances is left on the host, and after a restart on the
 * same state folder all three are terminated with a state reason naming the
 * restart, their state changes recorded; a stopped instance stays stopped.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
} from '@aws-sdk/client-ec2'
import test from 'ava'
import {readEvents} from '../../../src/emulator/event-record.js'
import {startServer} from '../../../src/emulator/server.js'
import {registerImage} from '../../../src/emulator/services/ec2/images.js'
import {clientFor, makeImageFolder, until} from './helpers.js'

const serverModule = new URL('../../../src/emulator/server.ts', import.meta.url).href

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
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (exit) => reject(new Error(`emulator exited early with ${exit}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

/** Host processes whose command line carries the marker (pgrep lists them; nothing is killed here). */
function processesWith(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], {encoding: 'utf8'}).split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

test('SIGKILL with three running instances: none of their processes is left, and after restart all three are terminated', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-ec2-kill-'))
  const stateDir = join(work, 'state')
  const image = await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'kill-image'})
  const first = await spawnEmulator(stateDir)
  const ec2 = clientFor(first.endpoint)
  const marker = `${3000 + Math.floor(Math.random() * 900)}.${process.pid}`
  const userData = Buffer.from(`#!/bin/bash\nsleep ${marker} &\necho started\n`).toString('base64')
  const {Instances} = await ec2.send(new RunInstancesCommand({ImageId: image.ImageId, MinCount: 3, MaxCount: 3, UserData: userData}))
  const ids = Instances!.map((i) => i.InstanceId!)
  const {Instances: kept} = await ec2.send(new RunInstancesCommand({ImageId: image.ImageId, MinCount: 1, MaxCount: 1}))
  const stoppedId = kept![0]!.InstanceId!
  const waiter = {client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1}
  await waitUntilInstanceRunning(waiter, {InstanceIds: [...ids, stoppedId]})
  await ec2.send(new StopInstancesCommand({InstanceIds: [stoppedId]}))
  await waitUntilInstanceStopped(waiter, {InstanceIds: [stoppedId]})
  await until(
    'the user data processes',
    async () => processesWith(`sleep ${marker}`),
    (pids) => pids.length === 3,
  )

  const exited = new Promise((resolve) => first.child.once('exit', resolve))
  first.child.kill('SIGKILL')
  await exited
  const left = await until(
    'the instances processes to end',
    async () => processesWith(`sleep ${marker}`),
    (pids) => pids.length === 0,
    10_000,
  ).catch(() => processesWith(`sleep ${marker}`))
  t.deepEqual(left, [], 'no process of an instance outlives the emulator')

  const second = await startServer({stateDir, port: 0, log: () => {}})
  t.teardown(() => second.close())
  const after = clientFor(second.endpoint)
  const {Reservations} = await after.send(new DescribeInstancesCommand({InstanceIds: [...ids, stoppedId]}))
  const byId = new Map(Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i]))
  for (const id of ids) {
    const instance = byId.get(id)!
    t.is(instance.State?.Name, 'terminated', id)
    t.is(instance.StateReason?.Code, 'Server.InternalError')
    t.regex(instance.StateReason?.Message ?? '', /emulator restarted/)
    t.regex(instance.StateTransitionReason ?? '', /emulator restarted/)
  }
  t.is(byId.get(stoppedId)?.State?.Name, 'stopped')
  // The console output written before the kill is still there.
  const console = await after.send(new GetConsoleOutputCommand({InstanceId: ids[0]!}))
  t.regex(Buffer.from(console.Output ?? '', 'base64').toString(), /started/)
  await sleep(100)
  const events = await until(
    'the reconciliation events on disk',
    () => readEvents(stateDir),
    (list) =>
      ids.every((id) =>
        list.some((e) => e.kind === 'ec2.state-change' && e.correlation?.instanceId === id && e.detail?.state === 'terminated'),
      ),
  )
  for (const id of ids)
    t.true(events.some((e) => e.kind === 'ec2.state-change' && e.correlation?.instanceId === id && e.detail?.state === 'shutting-down'))
})

test('after a clean stop of the emulator, a running instance is terminated on the next start with the restart named', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-ec2-stop-'))
  const stateDir = join(work, 'state')
  const image = await registerImage(stateDir, {dir: await makeImageFolder(join(work, 'image')), name: 'stop-image'})
  const first = await startServer({stateDir, port: 0, log: () => {}})
  const ec2 = clientFor(first.endpoint)
  const {Instances} = await ec2.send(new RunInstancesCommand({ImageId: image.ImageId, MinCount: 1, MaxCount: 1}))
  const id = Instances![0]!.InstanceId!
  await waitUntilInstanceRunning({client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1}, {InstanceIds: [id]})
  await first.close()
  const second = await startServer({stateDir, port: 0, log: () => {}})
  t.teardown(() => second.close())
  const {Reservations} = await clientFor(second.endpoint).send(new DescribeInstancesCommand({InstanceIds: [id]}))
  const instance = Reservations![0]!.Instances![0]!
  t.is(instance.State?.Name, 'terminated')
  t.is(instance.StateReason?.Code, 'Server.InternalError')
  t.is(instance.BlockDeviceMappings?.length, 0)
})
