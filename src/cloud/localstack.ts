/**
 * The localstack target. LocalStack's image starts only with a license token,
 * so without LOCALSTACK_AUTH_TOKEN ncap refuses before touching anything. With
 * it: a LocalStack already answering its health endpoint is used; else Docker
 * (through dockerode) finds ncap's LocalStack container and starts it, or
 * creates one from the image (NCAP_LOCALSTACK_IMAGE, default
 * localstack/localstack) on the port (NCAP_LOCALSTACK_PORT, default 4566),
 * passing the token through, waits for it to be healthy, and reuses it next time.
 * No daemon, no image or no token: one clear error saying which.
 */
import {request} from 'node:http'
import {NcapError} from '../errors.js'

export const LOCALSTACK_PORT = 4566
export const LOCALSTACK_ENDPOINT = `http://127.0.0.1:${LOCALSTACK_PORT}`
export const LOCALSTACK_IMAGE = 'localstack/localstack'
/** ncap marks the containers it creates, so it finds and reuses them. */
export const CONTAINER_LABEL = 'dev.ncap.localstack'
export const CONTAINER_NAME = 'ncap-localstack'

export const LOCALSTACK_DOCKER_RUN = 'docker run --rm -d -p 4566:4566 -e LOCALSTACK_AUTH_TOKEN localstack/localstack'

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

function httpStatus(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((done) => {
    const req = request(url, {timeout: timeoutMs, agent: false})
    req.on('response', (res) => {
      res.resume()
      done(res.statusCode)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(undefined))
    req.end()
  })
}

export interface LocalstackSettings {
  image: string
  port: number
  endpoint: string
  /** How long to wait for a started container to be healthy. */
  startTimeoutMs: number
}

export function localstackSettings(env: NodeJS.ProcessEnv = process.env): LocalstackSettings {
  const port = Number(env.NCAP_LOCALSTACK_PORT ?? LOCALSTACK_PORT)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NcapError(`NCAP_LOCALSTACK_PORT must be a port number; got "${env.NCAP_LOCALSTACK_PORT}".`, {exitCode: 2})
  }
  return {
    image: env.NCAP_LOCALSTACK_IMAGE || LOCALSTACK_IMAGE,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    startTimeoutMs: Number(env.NCAP_LOCALSTACK_START_TIMEOUT_MS ?? 90_000),
  }
}

/** A healthy LocalStack answers /_localstack/health with 200. */
export const localstackHealthy = async (endpoint: string, timeoutMs = 1500): Promise<boolean> =>
  (await httpStatus(`${endpoint}/_localstack/health`, timeoutMs)) === 200

// dockerode ships no types: the little of it used here.
interface DockerContainerInfo {
  Id: string
  State: string
  Image: string
  Names?: string[]
}
interface DockerContainer {
  start(): Promise<unknown>
}
interface DockerClient {
  ping(): Promise<unknown>
  listContainers(options: {all: boolean; filters: string}): Promise<DockerContainerInfo[]>
  getContainer(id: string): DockerContainer
  getImage(name: string): {inspect(): Promise<unknown>}
  createContainer(options: Record<string, unknown>): Promise<DockerContainer & {id: string}>
}

async function dockerClient(env: NodeJS.ProcessEnv): Promise<DockerClient> {
  const {createRequire} = await import('node:module')
  const Docker = createRequire(import.meta.url)('dockerode') as new (options?: Record<string, unknown>) => DockerClient
  const host = env.DOCKER_HOST
  if (!host) return new Docker()
  if (host.startsWith('unix://')) return new Docker({socketPath: host.slice('unix://'.length)})
  const url = new URL(host.replace(/^tcp:/, 'http:'))
  return new Docker({host: url.hostname, port: Number(url.port || 2375), protocol: 'http'})
}

const noDocker = (settings: LocalstackSettings, reason: string) =>
  new NcapError(`LocalStack does not answer at ${settings.endpoint} and Docker is not running (${reason}).`, {
    code: 'DockerNotRunning',
    suggestions: [`start Docker, then: ${LOCALSTACK_DOCKER_RUN}`, '--target local   (the embedded emulator: no Docker)'],
  })

/** Returns LocalStack's endpoint once it is healthy, starting its container if need be; else a clear NcapError. */
export async function localstackEndpoint(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const token = env.LOCALSTACK_AUTH_TOKEN
  if (!token) {
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
  const settings = localstackSettings(env)
  if (await localstackHealthy(settings.endpoint)) return settings.endpoint
  const docker = await dockerClient(env)
  try {
    await docker.ping()
  } catch (error) {
    throw noDocker(
      settings,
      env.DOCKER_HOST ? `no daemon answers at DOCKER_HOST=${env.DOCKER_HOST}` : `no daemon answers: ${(error as Error).message}`,
    )
  }
  const ours = await docker.listContainers({all: true, filters: JSON.stringify({label: [CONTAINER_LABEL]})})
  const existing = ours.find((c) => c.Image === settings.image) ?? ours[0]
  if (existing && existing.State !== 'running') await docker.getContainer(existing.Id).start()
  if (!existing) {
    try {
      await docker.getImage(settings.image).inspect()
    } catch {
      throw new NcapError(`The LocalStack image ${settings.image} is not on this machine's Docker, and ncap does not pull images.`, {
        code: 'LocalStackImageMissing',
        suggestions: [`docker pull ${settings.image}`, '--target local   (the embedded emulator: no Docker)'],
      })
    }
    const container = await docker.createContainer({
      name: `${CONTAINER_NAME}-${settings.port}`,
      Image: settings.image,
      Env: [`LOCALSTACK_AUTH_TOKEN=${token}`],
      Labels: {[CONTAINER_LABEL]: '1'},
      ExposedPorts: {'4566/tcp': {}},
      HostConfig: {PortBindings: {'4566/tcp': [{HostIp: '127.0.0.1', HostPort: String(settings.port)}]}},
    })
    await container.start()
  }
  const deadline = Date.now() + settings.startTimeoutMs
  while (Date.now() < deadline) {
    if (await localstackHealthy(settings.endpoint)) return settings.endpoint
    await sleep(500)
  }
  throw new NcapError(
    `LocalStack's container (${settings.image}) started but ${settings.endpoint}/_localstack/health did not answer within ${settings.startTimeoutMs / 1000} s.`,
    {
      code: 'LocalStackNotHealthy',
      suggestions: ['docker logs ncap-localstack-4566'],
    },
  )
}
