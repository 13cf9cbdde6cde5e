/**
 * Asynchronous invocations: a failing event is retried twice, about one minute
 * and then two minutes later on the emulator's clock, then discarded and said
 * so; a retry pending when the emulator stops is resumed by the next emulator
 * on the same state folder; and no worker outlives an emulator killed with
 * SIGKILL, not even one stuck in a busy loop.
 */
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as iam from '@aws-sdk/client-iam'
import * as lambda from '@aws-sdk/client-lambda'
import test from 'ava'
import type {EmulatorEvent} from '../../../src/emulator/event-record.js'
import {credentials, emulator, lambdaRole, region, TRUST_LAMBDA, zipOf} from './helpers.js'

const FAILING = `
import {appendFileSync} from 'node:fs'
export const handler = async (event) => {
  appendFileSync(process.env.ATTEMPTS, Date.now() + '\\n')
  throw new Error('always fails: ' + event.n)
}
`
const attempts = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [])
const until = async (check: () => boolean, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return check()
}

async function failingFunction(client: lambda.LambdaClient, role: string, name: string, file: string) {
  await client.send(
    new lambda.CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: {ZipFile: await zipOf({'index.mjs': FAILING})},
      Environment: {Variables: {ATTEMPTS: file}},
    }),
  )
}

test.serial('a failing Event invoke is retried after about 1 and 2 minutes on the emulator clock, then discarded', async (t) => {
  const emu = await emulator()
  t.teardown(() => emu.close())
  const seen: EmulatorEvent[] = []
  emu.server.events.subscribe((event) => seen.push(event))
  const role = await lambdaRole(emu.iam, 'async-role')
  const file = join(emu.stateDir, 'attempts.txt')
  await failingFunction(emu.lambda, role, 'fails', file)
  const queued = await emu.lambda.send(new lambda.InvokeCommand({FunctionName: 'fails', InvocationType: 'Event', Payload: '{"n":1}'}))
  t.is(queued.StatusCode, 202)
  // An attempt's failure is taken in (and its retry scheduled) once the handler has answered, just after it wrote its line.
  const failed = (n: number) => until(() => seen.filter((e) => e.kind === 'lambda.invoke' && e.outcome === 'failed').length >= n)
  t.true(await until(() => attempts(file).length === 1), 'the first attempt runs at once')
  t.true(await failed(1))
  await emu.server.clock.advance(30_000)
  t.is(attempts(file).length, 1, 'no retry before a minute')
  await emu.server.clock.advance(31_000)
  t.true(await until(() => attempts(file).length === 2), 'the first retry a minute later')
  t.true(await failed(2))
  await emu.server.clock.advance(100_000)
  t.is(attempts(file).length, 2, 'the second retry waits two minutes')
  await emu.server.clock.advance(21_000)
  t.true(await until(() => attempts(file).length === 3), 'the second retry two minutes after the first')
  const [first, second, third] = attempts(file)
  t.true(second! - first! >= 60_000 && second! - first! < 70_000, `${second! - first!}`)
  t.true(third! - second! >= 120_000 && third! - second! < 130_000, `${third! - second!}`)
  await emu.server.clock.advance(600_000)
  t.is(attempts(file).length, 3, 'no fourth attempt')
  t.true(await until(() => seen.some((e) => e.kind === 'lambda.invoke-discarded')))
  const failures = seen.filter((e) => e.kind === 'lambda.invoke' && e.outcome === 'failed')
  t.is(failures.length, 3)
  t.regex(failures[0]!.reason ?? '', /Error: always fails: 1/)
})

test.serial('a retry pending when the emulator stops runs on the next emulator of the same state folder', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-lambda-restart-'))
  t.teardown(() => rm(stateDir, {recursive: true, force: true}))
  const file = join(stateDir, 'attempts.txt')
  const first = await emulator({stateDir, keep: true})
  const role = await lambdaRole(first.iam, 'restart-role')
  await failingFunction(first.lambda, role, 'fails-across', file)
  await first.lambda.send(new lambda.InvokeCommand({FunctionName: 'fails-across', InvocationType: 'Event', Payload: '{"n":2}'}))
  t.true(await until(() => attempts(file).length === 1))
  await new Promise((r) => setTimeout(r, 200))
  await first.close()
  const queue = JSON.parse(readFileSync(join(stateDir, 'lambda', 'async.json'), 'utf8'))
  t.is(queue.entries.length, 1)
  t.is(queue.entries[0].attempt, 1)

  const second = await emulator({stateDir, keep: true})
  t.teardown(() => second.close())
  // The Lambda service resumes by itself because its state folder exists.
  const service = (await second.server.getService('lambda')) as unknown as {service: {queue: {size: number}}}
  t.true(await until(() => service.service.queue.size === 1))
  await second.server.clock.advance(61_000)
  t.true(await until(() => attempts(file).length === 2), 'the retry ran after the restart')
})

/** Every descendant pid of a process, from /proc. */
function descendants(pid: number): number[] {
  const out: number[] = []
  const walk = (parent: number) => {
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${parent}/task`)
    } catch {
      return
    }
    for (const task of tasks) {
      let children = ''
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8')
      } catch {
        continue
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child)
        walk(child)
      }
    }
  }
  walk(pid)
  return out
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

const linux = existsSync('/proc/self/task')
;(linux ? test.serial : test.skip)('no worker outlives an emulator killed with SIGKILL, even one busy in a loop', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-lambda-kill-'))
  t.teardown(() => rm(stateDir, {recursive: true, force: true}))
  const script = join(dirname(fileURLToPath(import.meta.url)), 'serve.ts')
  const child = spawn(process.execPath, ['--import=tsx', script, stateDir], {stdio: ['ignore', 'pipe', 'inherit']})
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const endpoint = await new Promise<string>((done, fail) => {
    child.stdout!.setEncoding('utf8')
    child.stdout!.once('data', (text: string) => done(text.trim()))
    child.once('exit', () => fail(new Error('the child emulator exited')))
  })
  const config = {endpoint, region, credentials}
  const admin = new iam.IAMClient(config)
  const client = new lambda.LambdaClient(config)
  const role = (await admin.send(new iam.CreateRoleCommand({RoleName: 'kill-role', AssumeRolePolicyDocument: TRUST_LAMBDA}))).Role!.Arn!
  await client.send(
    new lambda.CreateFunctionCommand({
      FunctionName: 'spins',
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Timeout: 900,
      Code: {ZipFile: await zipOf({'index.mjs': 'export const handler = async (e) => { if (e.spin) for (;;) {} ; return 1 }\n'})},
    }),
  )
  await client.send(new lambda.InvokeCommand({FunctionName: 'spins', Payload: '{}'}))
  for (let i = 0; i < 2; i++)
    void client.send(new lambda.InvokeCommand({FunctionName: 'spins', Payload: '{"spin":true}'})).catch(() => undefined)
  await new Promise((r) => setTimeout(r, 1000))
  const workers = descendants(child.pid!)
  t.true(workers.length >= 2, `workers: ${workers.join(', ')}`)
  child.kill('SIGKILL')
  t.true(await until(() => workers.every((pid) => !alive(pid)), 10_000), `still alive: ${workers.filter(alive).join(', ')}`)
  client.destroy()
  admin.destroy()
})
