/**
 * The emulator's process entry: `node main.js --state-dir DIR [--port N] [--host H] [--ready-fd FD]`.
 * Serves until SIGTERM/SIGINT, writing its record on start and removing it on exit.
 * `ncap emulator start` spawns this detached, with stdout and stderr in emulator.log,
 * and learns that it listens from its record written once on --ready-fd (a pipe).
 */
import {closeSync, writeSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {NcapError} from '../errors.js'
import {serveUntilSignal} from './lifecycle.js'
import {DEFAULT_EMULATOR_HOST, DEFAULT_EMULATOR_PORT, defaultStateDir} from './paths.js'

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_EMULATOR_PORT
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new NcapError(`--port must be an integer from 0 to 65535, got "${text}".`, {exitCode: 2})
  return port
}

function parseFd(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const fd = Number(text)
  if (!Number.isInteger(fd) || fd < 0) throw new NcapError(`--ready-fd must be a file descriptor, got "${text}".`, {exitCode: 2})
  return fd
}

/** Writes the record as one JSON line on the starter's pipe, then closes it; a starter that is gone is no error. */
function announce(fd: number | undefined, line: string): void {
  if (fd === undefined) return
  try {
    writeSync(fd, line)
  } catch {
    // EPIPE: the starter stopped waiting (it reports the failure itself).
  }
  try {
    closeSync(fd)
  } catch {
    // Already closed.
  }
}

try {
  const {values} = parseArgs({
    options: {port: {type: 'string'}, 'state-dir': {type: 'string'}, host: {type: 'string'}, 'ready-fd': {type: 'string'}},
    strict: true,
  })
  const stateDir = values['state-dir'] ?? defaultStateDir()
  const readyFd = parseFd(values['ready-fd'])
  const signal = await serveUntilSignal({stateDir, port: parsePort(values.port), host: values.host ?? DEFAULT_EMULATOR_HOST}, (record) => {
    process.stdout.write(
      `${record.startedAt} ncap emulator ${record.version} (pid ${record.pid}) listening at ${record.endpoint}, state in ${record.stateDir}\n`,
    )
    announce(readyFd, `${JSON.stringify(record)}\n`)
  })
  process.stdout.write(`${new Date().toISOString()} ${signal}: stopped\n`)
  process.exit(0)
} catch (error) {
  process.stderr.write(`${new Date().toISOString()} Error: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(error instanceof NcapError ? error.exitCode : 1)
}
