/** A child emulator for the SIGKILL test: serves a state folder on a free port and prints its endpoint. */
import {startServer} from '../../../src/emulator/server.js'

const server = await startServer({stateDir: process.argv[2]!, port: 0, log: () => {}})
process.stdout.write(`${server.endpoint}\n`)
