/**
 * The localstack target: LocalStack's image starts only with a license token, so
 * without LOCALSTACK_AUTH_TOKEN ncap refuses before touching anything; with it,
 * ncap uses a LocalStack that already answers on 4566, or says exactly what is
 * missing (Docker, or the container) and how to start it.
 */
import {existsSync} from 'node:fs'
import {request} from 'node:http'
import {NcapError} from '../errors.js'

export const LOCALSTACK_ENDPOINT = 'http://127.0.0.1:4566'
const DOCKER_SOCKET = '/var/run/docker.sock'

export const LOCALSTACK_DOCKER_RUN = 'docker run --rm -d -p 4566:4566 -e LOCALSTACK_AUTH_TOKEN localstack/localstack'

function httpAnswers(options: {url?: string; socketPath?: string; path?: string}, timeoutMs: number): Promise<number | undefined> {
  return new Promise((done) => {
    const req = options.socketPath
      ? request({socketPath: options.socketPath, path: options.path ?? '/', timeout: timeoutMs, agent: false})
      : request(options.url ?? '', {timeout: timeoutMs, agent: false})
    req.on('response', (res) => {
      res.resume()
      done(res.statusCode)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(undefined))
    req.end()
  })
}

/** Where a Docker daemon would be: DOCKER_HOST, else the default socket if a daemon answers on it. */
async function dockerDaemon(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.DOCKER_HOST) return env.DOCKER_HOST
  if (!existsSync(DOCKER_SOCKET)) return undefined
  const status = await httpAnswers({socketPath: DOCKER_SOCKET, path: '/_ping'}, 1000)
  return status === 200 ? `unix://${DOCKER_SOCKET}` : undefined
}

/** Returns LocalStack's endpoint when it can be used, else throws an NcapError saying why and what to do. */
export async function localstackEndpoint(env: NodeJS.ProcessEnv = process.env, endpoint = LOCALSTACK_ENDPOINT): Promise<string> {
  if (!env.LOCALSTACK_AUTH_TOKEN) {
    throw new NcapError(
      "The localstack target needs LOCALSTACK_AUTH_TOKEN: LocalStack's image does not start without a license token, so nothing was started.",
      {
        code: 'LocalStackTokenMissing',
        suggestions: [
          'get a token at https://app.localstack.cloud (Workspace > Auth Tokens) and export LOCALSTACK_AUTH_TOKEN=…',
          '--target local   (the embedded emulator: no Docker, no token)',
        ],
      },
    )
  }
  if ((await httpAnswers({url: `${endpoint}/_localstack/health`}, 1500)) !== undefined) return endpoint
  const daemon = await dockerDaemon(env)
  if (!daemon) {
    throw new NcapError(
      `LocalStack does not answer at ${endpoint} and Docker is not running (no DOCKER_HOST, no daemon answering on ${DOCKER_SOCKET}).`,
      {
        code: 'DockerNotRunning',
        suggestions: [`start Docker, then: ${LOCALSTACK_DOCKER_RUN}`, '--target local   (the embedded emulator: no Docker)'],
      },
    )
  }
  throw new NcapError(
    `LocalStack does not answer at ${endpoint}; Docker is running (${daemon}). Start LocalStack with:\n  ${LOCALSTACK_DOCKER_RUN}`,
    {
      code: 'LocalStackNotRunning',
      suggestions: [LOCALSTACK_DOCKER_RUN, '--target local   (the embedded emulator)'],
    },
  )
}
