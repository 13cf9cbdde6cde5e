/**
 * Kill safety: the emulator runs as a child process and is SIGKILLed in the
 * middle of a burst of PutSecretValue calls; after a restart on the same state
 * folder every acknowledged version is there with its value, the secret's
 * file is whole JSON and still mode 0600.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {statSync} from 'node:fs'
import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import * as sm from '@aws-sdk/client-secrets-manager'
import test from 'ava'
import {SecretsState} from '../../../src/emulator/services/secretsmanager/state.js'

const serverModule = new URL('../../../src/emulator/server.ts', import.meta.url).href

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
    child.once('exit', (exitCode) => reject(new Error(`emulator exited early with ${exitCode}`)))
  })
  return {child, endpoint: `http://127.0.0.1:${port}`}
}

const clientFor = (endpoint: string) =>
  new sm.SecretsManagerClient({endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})

const token = (index: number) => `kill-burst-${String(index).padStart(24, '0')}`

test('SIGKILL during a burst of PutSecretValue: every acknowledged version survives a restart', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ncap-sm-kill-'))
  const first = await spawnEmulator(stateDir)
  const client = clientFor(first.endpoint)
  await client.send(new sm.CreateSecretCommand({Name: 'kill/burst', SecretString: 'start'}))
  const acknowledged: number[] = []
  let stopped = false
  // Four writers at once, so the kill lands while writes are queued and in flight.
  const writers = [0, 1, 2, 3].map(async (writer) => {
    for (let index = writer; !stopped; index += 4) {
      try {
        await client.send(
          new sm.PutSecretValueCommand({SecretId: 'kill/burst', SecretString: `value ${index}`, ClientRequestToken: token(index)}),
        )
        acknowledged.push(index)
      } catch {
        return
      }
    }
  })
  while (acknowledged.length < 40) await sleep(5)
  const exited = new Promise((resolve) => first.child.once('exit', resolve))
  first.child.kill('SIGKILL')
  await exited
  stopped = true
  await Promise.all(writers)
  t.log(`${acknowledged.length} versions acknowledged before the kill`)

  const file = SecretsState.fileOf(stateDir, 'us-east-1', 'kill/burst')
  JSON.parse(await readFile(file, 'utf8'))
  t.is(statSync(file).mode & 0o777, 0o600)
  const second = await spawnEmulator(stateDir)
  t.teardown(() => second.child.kill('SIGKILL'))
  const again = clientFor(second.endpoint)
  // AWS (and the emulator) keep about 100 unlabelled versions; a longer burst may drop the oldest.
  const newest = [...acknowledged].sort((a, b) => a - b).slice(-98)
  for (const index of newest) {
    const got = await again.send(new sm.GetSecretValueCommand({SecretId: 'kill/burst', VersionId: token(index)}))
    t.is(got.SecretString, `value ${index}`)
  }
  const current = await again.send(new sm.GetSecretValueCommand({SecretId: 'kill/burst'}))
  t.true(current.VersionId?.startsWith('kill-burst-'), 'AWSCURRENT is one of the burst')
  const versions = await again.send(new sm.ListSecretVersionIdsCommand({SecretId: 'kill/burst', IncludeDeprecated: true}))
  t.true(versions.Versions!.length >= newest.length)
})
