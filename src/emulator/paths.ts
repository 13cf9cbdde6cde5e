/**
 * Where the emulator keeps its state and how later commands find a running one.
 * One state folder per user by default (the OS data folder), NCAP_HOME overrides,
 * and `--state-dir` picks any other, so several emulators can run side by side.
 */
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The emulator's default port: fixed so tools can be pointed at it, and not LocalStack's 4566. */
export const DEFAULT_EMULATOR_PORT = 4599
export const DEFAULT_EMULATOR_HOST = '127.0.0.1'

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.NCAP_HOME
  if (home) return resolve(home, 'emulator')
  return join(userDataDir('ncap', env), 'emulator')
}

/**
 * The per-user data folder of an application, by the platform's convention (the folders
 * env-paths gives, written here because importing it costs the emulator's start-up an
 * ESM import of node:process, ~10 ms): $XDG_DATA_HOME or ~/.local/share on Linux,
 * ~/Library/Application Support on macOS, %LOCALAPPDATA%\<name>\Data on Windows.
 */
export function userDataDir(name: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = homedir()
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', name)
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), name, 'Data')
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), name)
}

/** The state folder a command works on: the flag when given, else the default. */
export function resolveStateDir(stateDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return stateDir ? resolve(stateDir) : defaultStateDir(env)
}

/** The running emulator's record: {pid, port, endpoint, host, stateDir, startedAt, version}. */
export const recordPath = (stateDir: string): string => join(stateDir, 'emulator.json')
/** The detached emulator's stdout and stderr. */
export const logPath = (stateDir: string): string => join(stateDir, 'emulator.log')
/** Held while one process starts the emulator, so concurrent auto-starts spawn it once. */
export const startLockPath = (stateDir: string): string => join(stateDir, 'emulator.start.lock')

let cachedVersion: string | undefined
/** ncap's own version, from the package.json above this file (src/ in dev, dist/src/ when built). */
export function ncapVersion(): string {
  cachedVersion ??= findVersion()
  return cachedVersion
}

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'ncap' && pkg.version) return pkg.version
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}
