/**
 * `ncap emulator clock [advance D]` and `ncap emulator events [--follow]` as a
 * user runs them, against a detached emulator started by `ncap emulator start`:
 * the clock shown and advanced (a rate(5 minutes) rule firing after 6m), the
 * event record listed, filtered, as NDJSON and followed, and a clear exit 1
 * when no emulator runs.
 */
import {spawn} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {EventBridgeClient, PutEventsCommand, PutRuleCommand} from '@aws-sdk/client-eventbridge'
import test from 'ava'
import {cliEntry, repoRoot, runCli} from '../helpers/cli.js'

let stateDir = ''
let endpoint = ''
let events: EventBridgeClient

test.before(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'ncap-clock-cmd-')), 'state')
  const started = await runCli(['emulator', 'start', '--port', '0', '--json', '--state-dir', stateDir])
  if (started.code !== 0) throw new Error(`emulator start failed: ${started.stderr}`)
  endpoint = (JSON.parse(started.stdout) as {endpoint: string}).endpoint
  events = new EventBridgeClient({endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
})
test.after.always(async () => {
  events?.destroy()
  if (stateDir) await runCli(['emulator', 'stop', '--state-dir', stateDir])
})

test('clock and clock advance: --help works for both the command and the topic', async (t) => {
  const clock = await runCli(['emulator', 'clock', '--help'])
  t.is(clock.code, 0, clock.stderr)
  t.regex(clock.stdout, /\$ ncap emulator clock/)
  t.regex(clock.stdout, /emulator clock advance/)
  const advance = await runCli(['emulator', 'clock', 'advance', '--help'])
  t.is(advance.code, 0, advance.stderr)
  t.regex(advance.stdout, /\$ ncap emulator clock advance DURATION/)
})

test('clock exits 1 with a clear message when no emulator runs', async (t) => {
  const empty = join(await mkdtemp(join(tmpdir(), 'ncap-clock-none-')), 'state')
  const run = await runCli(['emulator', 'clock', '--state-dir', empty])
  t.is(run.code, 1)
  t.regex(run.stderr, /No emulator is running on the state folder/)
  t.regex(run.stderr, /Try: ncap emulator start/)
  const json = await runCli(['emulator', 'clock', '--json', '--state-dir', empty])
  t.is(json.code, 1)
  t.is(JSON.parse(json.stdout).error.code, 'EmulatorNotRunning')
})

test.serial(
  'clock advance 6m fires a rate(5 minutes) rule and says so; clock --json shows the offset; a bad duration is exit 2',
  async (t) => {
    await events.send(new PutRuleCommand({Name: 'every-five', ScheduleExpression: 'rate(5 minutes)'}))
    const before = await runCli(['emulator', 'clock', '--json', '--state-dir', stateDir])
    t.is(before.code, 0, before.stderr)
    const shown = JSON.parse(before.stdout) as {now: string; offsetMs: number}
    t.is(typeof shown.offsetMs, 'number')
    const advanced = await runCli(['emulator', 'clock', 'advance', '6m', '--state-dir', stateDir])
    t.is(advanced.code, 0, advanced.stderr)
    t.regex(advanced.stdout, /Clock advanced by 6m to /)
    t.regex(advanced.stdout, /schedule rate\(5 minutes\) of rule every-five fired/)
    t.regex(advanced.stdout, /rule every-five matched event .* but has no targets/)
    const after = JSON.parse((await runCli(['emulator', 'clock', '--json', '--state-dir', stateDir])).stdout) as {offsetMs: number}
    // The clock moved 6m beyond where real time took it: the offset grew by 6m less the seconds the commands took.
    t.true(after.offsetMs > shown.offsetMs + 300_000, `${shown.offsetMs} -> ${after.offsetMs}`)
    const human = await runCli(['emulator', 'clock', '--state-dir', stateDir])
    t.regex(human.stdout, /Emulator clock: .* \(\d+m( \d+s)? ahead of the host\)/)
    const bad = await runCli(['emulator', 'clock', 'advance', 'soon', '--state-dir', stateDir])
    t.is(bad.code, 2)
    t.regex(bad.stderr, /"soon" is not a duration/)
  },
)

test.serial('events lists the record, filters by service and time, prints NDJSON under --json', async (t) => {
  await events.send(new PutEventsCommand({Entries: [{Source: 'lab.listing', DetailType: 'x', Detail: '{}'}]}))
  // The record is written shortly after; give the emulator a moment.
  await new Promise((r) => setTimeout(r, 300))
  const all = await runCli(['emulator', 'events', '--state-dir', stateDir])
  t.is(all.code, 0, all.stderr)
  t.regex(all.stdout, /events\s+skipped\s+event .* \(lab\.listing \/ x\) matched no rule on bus default/)
  t.regex(all.stdout, /ncap\s+ok\s+clock advanced by/)
  const onlyEvents = await runCli(['emulator', 'events', '--service', 'events', '--state-dir', stateDir])
  t.notRegex(onlyEvents.stdout, /clock advanced/)
  const json = await runCli(['emulator', 'events', '--json', '--service', 'events', '--state-dir', stateDir])
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as {service: string; kind: string})
  t.true(lines.length >= 2)
  t.true(lines.every((line) => line.service === 'events'))
  t.true(lines.some((line) => line.kind === 'events.no-match'))
  const recent = await runCli(['emulator', 'events', '--since', '1s', '--state-dir', stateDir])
  t.notRegex(recent.stdout, /clock advanced/)
})

test.serial('events --follow prints new events within a second of their recording', async (t) => {
  const child = spawn(process.execPath, [...cliEntry(), 'emulator', 'events', '--follow', '--json', '--state-dir', stateDir], {
    cwd: repoRoot,
    env: {...process.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  try {
    // Wait until the command has printed the existing record (it is following from then on).
    const deadline = Date.now() + 30_000
    while (!stdout.includes('events.no-match') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const put = await events.send(new PutEventsCommand({Entries: [{Source: 'lab.follow', DetailType: 'followed', Detail: '{}'}]}))
    const id = put.Entries![0]!.EventId!
    const sent = Date.now()
    while (!stdout.includes(id) && Date.now() - sent < 5000) await new Promise((r) => setTimeout(r, 20))
    const waited = Date.now() - sent
    t.true(stdout.includes(id), `the followed line for ${id} did not arrive`)
    t.true(waited < 1500, `arrived after ${waited} ms`)
  } finally {
    child.kill('SIGTERM')
  }
})

test('after a SIGKILL, a restarted emulator resumes schedules: rate(5 minutes) fires on the next advance', async (t) => {
  const killed = join(await mkdtemp(join(tmpdir(), 'ncap-clock-kill-')), 'state')
  const first = await runCli(['emulator', 'start', '--port', '0', '--json', '--state-dir', killed])
  t.is(first.code, 0, first.stderr)
  const {endpoint: firstEndpoint, pid} = JSON.parse(first.stdout) as {endpoint: string; pid: number}
  const client = new EventBridgeClient({
    endpoint: firstEndpoint,
    region: 'us-east-1',
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
  })
  await client.send(new PutRuleCommand({Name: 'survivor', ScheduleExpression: 'rate(5 minutes)'}))
  client.destroy()
  process.kill(pid, 'SIGKILL')
  try {
    const second = await runCli(['emulator', 'start', '--port', '0', '--json', '--state-dir', killed])
    t.is(second.code, 0, second.stderr)
    const advanced = await runCli(['emulator', 'clock', 'advance', '6m', '--state-dir', killed])
    t.is(advanced.code, 0, advanced.stderr)
    t.regex(advanced.stdout, /schedule rate\(5 minutes\) of rule survivor fired/)
  } finally {
    await runCli(['emulator', 'stop', '--state-dir', killed])
  }
})
