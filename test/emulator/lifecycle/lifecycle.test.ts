/**
 * The emulator's lifecycle through the real CLI: detached child processes,
 * records on disk, signals. Every emulator here has its own temp state folder
 * and a free port, so this file runs beside any other.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateBucketCommand, ListBucketsCommand, S3Client} from '@aws-sdk/client-s3'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {createClient} from '../../../src/cloud/client.js'
import type {Target} from '../../../src/cloud/target.js'
import {EMULATOR_CREDENTIALS} from '../../../src/cloud/target.js'
import {isProcessAlive, startEmulator, stopEmulator} from '../../../src/emulator/lifecycle.js'
import {userDataDir} from '../../../src/emulator/paths.js'
import {repoRoot, runCli} from '../../helpers/cli.js'

const tempDir = (label: string) => mkdtemp(join(tmpdir(), `ncap-lifecycle-${label}-`))
const target = (endpoint: string): Target => ({kind: 'endpoint', endpoint, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS})

/** Starts a detached emulator on a free port; stops it when the test ends, whatever happened. */
async function startOn(t: {teardown(fn: () => Promise<unknown>): void}, stateDir: string, env: NodeJS.ProcessEnv = {}) {
  t.teardown(() => stopEmulator(stateDir))
  const result = await runCli(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'], {env})
  if (result.code !== 0) throw new Error(`start failed (${result.code}): ${result.stderr}`)
  return JSON.parse(result.stdout) as {endpoint: string; pid: number; stateDir: string; alreadyRunning: boolean}
}

test('start, status, idempotent start, real clients, stop', async (t) => {
  const stateDir = await tempDir('main')
  const started = await startOn(t, stateDir)
  t.regex(started.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.false(started.alreadyRunning)
  t.is(started.stateDir, stateDir)

  const status = await runCli(['emulator', 'status', '--json', '--state-dir', stateDir])
  t.is(status.code, 0)
  t.deepEqual(JSON.parse(status.stdout), {running: true, endpoint: started.endpoint, pid: started.pid, stateDir})

  const record = JSON.parse(await readFile(join(stateDir, 'emulator.json'), 'utf8'))
  t.like(record, {pid: started.pid, endpoint: started.endpoint, host: '127.0.0.1', stateDir})
  t.truthy(record.startedAt && record.version && record.port)

  const identity = await createClient(STSClient, target(started.endpoint)).send(new GetCallerIdentityCommand({}))
  t.is(identity.Account, '000000000000')
  const buckets = await createClient(S3Client, target(started.endpoint)).send(new ListBucketsCommand({}))
  t.deepEqual(buckets.Buckets ?? [], [])

  const again = await runCli(['emulator', 'start', '--port', '0', '--state-dir', stateDir, '--json'])
  t.is(again.code, 0)
  t.deepEqual(JSON.parse(again.stdout), {endpoint: started.endpoint, pid: started.pid, stateDir, alreadyRunning: true})

  const stop = await runCli(['emulator', 'stop', '--state-dir', stateDir, '--json'])
  t.is(stop.code, 0)
  t.like(JSON.parse(stop.stdout), {stopped: true, pid: started.pid})
  t.false(existsSync(join(stateDir, 'emulator.json')))

  const after = await runCli(['emulator', 'status', '--json', '--state-dir', stateDir])
  t.is(after.code, 1)
  t.like(JSON.parse(after.stdout), {running: false})
  t.false(isProcessAlive(started.pid))
})

test('two emulators on two state folders run side by side', async (t) => {
  const [dirA, dirB] = await Promise.all([tempDir('a'), tempDir('b')])
  const [a, b] = await Promise.all([startOn(t, dirA), startOn(t, dirB)])
  t.not(a.endpoint, b.endpoint)
  t.not(a.pid, b.pid)
  await createClient(S3Client, target(a.endpoint)).send(new CreateBucketCommand({Bucket: 'only-in-a'}))
  const inA = await createClient(S3Client, target(a.endpoint)).send(new ListBucketsCommand({}))
  const inB = await createClient(S3Client, target(b.endpoint)).send(new ListBucketsCommand({}))
  t.deepEqual(
    inA.Buckets?.map((bucket) => bucket.Name),
    ['only-in-a'],
  )
  t.deepEqual(inB.Buckets ?? [], [])
})

test('NCAP_HOME sets the default state folder', async (t) => {
  const home = await tempDir('home')
  const stateDir = join(home, 'emulator')
  t.teardown(() => stopEmulator(stateDir))
  const started = await runCli(['emulator', 'start', '--port', '0', '--json'], {env: {NCAP_HOME: home}})
  t.is(started.code, 0, started.stderr)
  t.is(JSON.parse(started.stdout).stateDir, stateDir)
  t.true(existsSync(join(stateDir, 'emulator.json')))
  const status = await runCli(['emulator', 'status', '--json'], {env: {NCAP_HOME: home}})
  t.is(JSON.parse(status.stdout).stateDir, stateDir)
})

test('the default data folder follows each platform convention', (t) => {
  const home = homedir()
  t.is(userDataDir('ncap', {}, 'linux'), join(home, '.local', 'share', 'ncap'))
  t.is(userDataDir('ncap', {XDG_DATA_HOME: '/data'}, 'linux'), join('/data', 'ncap'))
  t.is(userDataDir('ncap', {XDG_DATA_HOME: ''}, 'linux'), join(home, '.local', 'share', 'ncap'))
  t.is(userDataDir('ncap', {}, 'darwin'), join(home, 'Library', 'Application Support', 'ncap'))
  t.is(userDataDir('ncap', {LOCALAPPDATA: 'C:/Users/u/AppData/Local'}, 'win32'), join('C:/Users/u/AppData/Local', 'ncap', 'Data'))
})

test('an emulator that fails before it listens is reported at once, with its log', async (t) => {
  const stateDir = await tempDir('fails')
  t.teardown(() => stopEmulator(stateDir))
  const began = Date.now()
  // 203.0.113.1 (TEST-NET-3) is no address of this machine: the emulator's listen fails and it exits 1.
  const error = await t.throwsAsync(startEmulator({stateDir, port: 0, host: '203.0.113.1', timeoutMs: 60_000}))
  t.is((error as {code?: string}).code, 'EmulatorStartFailed')
  t.regex(error.message, /exited with code 1 before answering/)
  t.regex(error.message, /EADDRNOTAVAIL|address/i)
  // Its exit is seen as it happens, not at the end of the wait.
  t.true(Date.now() - began < 30_000)
  t.false(existsSync(join(stateDir, 'emulator.json')))
})

test('help documents the default port 4599', async (t) => {
  const help = await runCli(['emulator', 'start', '--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /4599/)
  t.regex(help.stdout, /--state-dir/)
})

test('a stale record (process killed -9) is reported as not running and removed', async (t) => {
  const stateDir = await tempDir('stale')
  const started = await startOn(t, stateDir)
  process.kill(started.pid, 'SIGKILL')
  for (let i = 0; i < 50 && isProcessAlive(started.pid); i++) await new Promise((done) => setTimeout(done, 20))
  const status = await runCli(['emulator', 'status', '--json', '--state-dir', stateDir])
  t.is(status.code, 1)
  t.like(JSON.parse(status.stdout), {running: false, stateDir})
  t.false(existsSync(join(stateDir, 'emulator.json')))
})

test('a port held by another program is a clear error', async (t) => {
  const blocker = createServer()
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as {port: number}).port
  const stateDir = await tempDir('busy')
  const result = await runCli(['emulator', 'start', '--port', String(port), '--state-dir', stateDir])
  t.is(result.code, 1)
  t.regex(result.stderr, new RegExp(`Port ${port} .*in use`))
  t.false(existsSync(join(stateDir, 'emulator.json')))
})

test('reset without --yes off a terminal refuses with exit 2 and deletes nothing', async (t) => {
  const stateDir = await tempDir('noyes')
  await writeFile(join(stateDir, 'emulator.log'), 'kept\n')
  const result = await runCli(['emulator', 'reset', '--state-dir', stateDir])
  t.is(result.code, 2)
  t.regex(result.stderr, /use --yes/)
  t.deepEqual(await readdir(stateDir), ['emulator.log'])
})

test('reset refuses a folder that is not an emulator state folder', async (t) => {
  const dir = await tempDir('notstate')
  await writeFile(join(dir, 'thesis.tex'), 'precious\n')
  const result = await runCli(['emulator', 'reset', '--yes', '--state-dir', dir])
  t.is(result.code, 2)
  t.regex(result.stderr, /does not look like an emulator state folder/)
  t.deepEqual(await readdir(dir), ['thesis.tex'])
})

test('reset --yes stops the emulator and all state is gone after a restart', async (t) => {
  const stateDir = await tempDir('reset')
  const first = await startOn(t, stateDir)
  await createClient(S3Client, target(first.endpoint)).send(new CreateBucketCommand({Bucket: 'doomed'}))
  const reset = await runCli(['emulator', 'reset', '--yes', '--json', '--state-dir', stateDir])
  t.is(reset.code, 0, reset.stderr)
  const removed = JSON.parse(reset.stdout)
  t.is(removed.stoppedPid, first.pid)
  t.true(removed.removed.includes('s3'))
  t.deepEqual(await readdir(stateDir), [])
  const second = await startEmulator({stateDir, port: 0})
  t.not(second.pid, first.pid)
  const buckets = await createClient(S3Client, target(second.endpoint)).send(new ListBucketsCommand({}))
  t.deepEqual(buckets.Buckets ?? [], [])
})

test('--foreground serves in the CLI process until SIGTERM', async (t) => {
  const stateDir = await tempDir('fg')
  const child = spawn(
    process.execPath,
    [
      '--import=tsx',
      '--no-warnings',
      join(repoRoot, 'bin', 'dev.js'),
      'emulator',
      'start',
      '--foreground',
      '--json',
      '--port',
      '0',
      '--state-dir',
      stateDir,
    ],
    {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']},
  )
  t.teardown(() => child.kill('SIGKILL'))
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const ready = await new Promise<{endpoint: string; pid: number}>((done, fail) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text
      const end = out.indexOf('}')
      if (end >= 0) done(JSON.parse(out.slice(0, end + 1)))
    })
    child.once('exit', (code) => fail(new Error(`exited ${code} before answering`)))
  })
  t.is(ready.pid, child.pid ?? -1)
  const identity = await createClient(STSClient, target(ready.endpoint)).send(new GetCallerIdentityCommand({}))
  t.is(identity.Account, '000000000000')
  t.true(existsSync(join(stateDir, 'emulator.json')))
  child.kill('SIGTERM')
  t.is(await exit, 0)
  t.false(existsSync(join(stateDir, 'emulator.json')))
})
