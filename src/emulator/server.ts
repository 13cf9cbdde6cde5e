/**
 * The emulator's one HTTP server. Each request is routed by the service named
 * in its SigV4 credential scope (Authorization header or presigned
 * X-Amz-Credential), authenticated (auth/), and handed to that service, which
 * is loaded on first use so start-up costs about what a bare node:http server
 * does. Errors before a service is reached are rendered in its protocol's shape.
 */
import {randomUUID} from 'node:crypto'
import {existsSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {malformedAuthorization, missingAuthentication} from './auth/refusals.js'
import {MalformedAuthorization, parseAuthorizationHeader, parsePresignedQuery, type SignatureClaims} from './auth/scope.js'
import {ANONYMOUS_PRINCIPAL, unsignedStsRequest} from './auth/unsigned.js'
import {EmulatorClock} from './clock.js'
import {AwsError} from './errors.js'
import {EventRecord} from './event-record.js'
import type {InternalApis} from './internal.js'
import {DEFAULT_BODY_LIMIT} from './protocols/body.js'
import {asAwsError, type Protocol, protocolOf, sendError} from './protocols/errors.js'
import {serviceModules} from './services/index.js'
import {
  type ConditionContext,
  DEFAULT_REGION,
  type EmulatedService,
  type Identity,
  type RequestContext,
  type ServiceFactory,
} from './types.js'

export interface StartServerOptions {
  stateDir: string
  /** 0 (the default) picks any free port. */
  port?: number
  /** Defaults to 127.0.0.1; the emulator never listens on every interface unless told to here. */
  host?: string
  /** Extra or replacement services by signing name (tests register small ones here). */
  services?: Record<string, ServiceFactory>
  /** The identity to authenticate against; by default the IAM service's openIdentity(stateDir). */
  identity?: Identity
  /** Where unexpected (non-AWS) errors are reported; defaults to stderr. */
  log?: (line: string) => void
  /** Longest wait for in-flight requests on close() before connections are cut. */
  closeTimeoutMs?: number
  /** The clock to use; by default the state folder's (clock.json). */
  clock?: EmulatorClock
}

export interface RunningServer {
  endpoint: string
  port: number
  clock: EmulatorClock
  events: EventRecord
  /** A service of this server, loaded on first use (tests reach internal APIs this way). */
  getService(signingName: string): Promise<EmulatedService | undefined>
  close(): Promise<void>
}

/** The account's identity lives with the IAM service; loaded on the first signed request, not at start-up. */
async function openDefaultIdentity(stateDir: string): Promise<Identity> {
  const {openIdentity} = await import('./services/iam/index.js')
  return openIdentity(stateDir)
}

type Authenticate = typeof import('./auth/authenticate.js')['authenticate']
let authenticateLoaded: Authenticate | undefined
let authenticateLoading: Promise<Authenticate> | undefined

/**
 * auth/authenticate.js and what it imports (the SigV4 verifier, the aws-chunked decoder,
 * node:stream), loaded by the first signed request or by the warm-up once the server
 * answers, not on the way to listen; then the SDK's signer itself (auth/sigv4.ts).
 */
function loadAuthenticate(): Promise<Authenticate> {
  authenticateLoading ??= import('./auth/authenticate.js').then(
    (module) => {
      authenticateLoaded = module.authenticate
      return module.authenticate
    },
    (error: unknown) => {
      authenticateLoading = undefined
      throw error
    },
  )
  return authenticateLoading
}

async function warmUpSigner(): Promise<void> {
  await loadAuthenticate()
  const {loadSigner} = await import('./auth/sigv4.js')
  loadSigner()
}

/** Where a request without a signature would have gone, to answer in that protocol. */
function guessProtocol(req: IncomingMessage, rawQuery: string): Protocol {
  if (req.headers['x-amz-target']) return 'json'
  if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') || /(^|&)Action=/.test(rawQuery)) {
    return 'query'
  }
  return 'restxml'
}

const SIGV2_REFUSED =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. ' +
  "(The emulator verifies SigV4 only; boto3 presigns S3 URLs with SigV2 unless given Config(signature_version='s3v4').)"

function readClaims(req: IncomingMessage, rawQuery: string, url: URL): SignatureClaims | undefined {
  const authorization = req.headers.authorization
  if (authorization?.startsWith('AWS ') || (!authorization && /(^|&)AWSAccessKeyId=/.test(rawQuery))) {
    throw new AwsError('InvalidRequest', SIGV2_REFUSED, 400)
  }
  if (authorization) return parseAuthorizationHeader(authorization)
  if (rawQuery.includes('X-Amz-Credential=')) return parsePresignedQuery(url.searchParams)
  return undefined
}

function unknownService(service: string): AwsError {
  const known = Object.keys(serviceModules).sort().join(', ')
  return new AwsError(
    'UnknownService',
    `The emulator does not serve '${service}' (the service named in the credential scope); it serves ${known}.`,
    400,
  )
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const factories: Record<string, () => Promise<ServiceFactory>> = {}
  for (const [name, load] of Object.entries(serviceModules)) factories[name] = async () => (await load()).default
  for (const [name, factory] of Object.entries(options.services ?? {})) factories[name] = async () => factory
  const services = new Map<string, Promise<EmulatedService>>()
  let identity: Promise<Identity> | undefined = options.identity ? Promise.resolve(options.identity) : undefined
  let endpoint = ''
  let inFlight = 0
  const clock = options.clock ?? EmulatorClock.open(options.stateDir)
  const events = new EventRecord(options.stateDir, () => clock.now())
  let drained: (() => void) | undefined

  const getIdentity = () => {
    identity ??= openDefaultIdentity(options.stateDir)
    return identity
  }

  const getService = (name: string): Promise<EmulatedService> | undefined => {
    const load = factories[name]
    if (!load) return undefined
    let service = services.get(name)
    if (!service) {
      service = load().then((factory) =>
        factory({
          stateDir: options.stateDir,
          endpoint,
          getService: (other) => getService(other) ?? Promise.resolve(undefined),
          internal: <K extends keyof InternalApis>(other: K) => getInternal(other),
          clock,
          events,
          identity: getIdentity,
        }),
      )
      // A failed load is retried on the next request rather than remembered.
      service.catch(() => services.delete(name))
      services.set(name, service)
    }
    return service
  }

  async function getInternal<K extends keyof InternalApis>(name: K): Promise<InternalApis[K]> {
    const service = await getService(name)
    if (!service?.internal)
      throw new AwsError('ServiceUnavailable', `The emulator's ${name} service is not available to other services.`, 503)
    return service.internal as InternalApis[K]
  }

  async function serve(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    const requestId = randomUUID()
    res.setHeader('x-amzn-RequestId', requestId)
    res.setHeader('x-amz-request-id', requestId)
    const rawUrl = req.url ?? '/'
    const mark = rawUrl.indexOf('?')
    const rawPath = mark === -1 ? rawUrl : rawUrl.slice(0, mark)
    const rawQuery = mark === -1 ? '' : rawUrl.slice(mark + 1)
    let protocol: Protocol = guessProtocol(req, rawQuery)
    let service: string | undefined
    let continued = false
    const beforeBody = () => {
      if (expectsContinue && !continued) {
        continued = true
        res.writeContinue()
      }
    }
    try {
      const url = new URL(rawUrl.startsWith('/') ? rawUrl : '/', endpoint)
      let claims: SignatureClaims | undefined
      try {
        claims = readClaims(req, rawQuery, url)
      } catch (error) {
        if (!(error instanceof MalformedAuthorization)) throw error
        if (error.service) protocol = protocolOf(error.service)
        throw malformedAuthorization(protocol, error.message)
      }
      // AWS serves STS's federation calls unsigned: they reach STS as an anonymous caller (auth/unsigned.ts).
      const unsigned = claims || protocol !== 'query' ? undefined : await unsignedStsRequest(req, rawQuery, DEFAULT_BODY_LIMIT)
      if (!claims && !unsigned) throw missingAuthentication(protocol)
      service = claims?.service ?? 'sts'
      protocol = protocolOf(service)
      if (service === 's3') res.setHeader('x-amz-id-2', requestId)
      if (!factories[service]) throw unknownService(service)
      const resolver = await getIdentity()
      const authenticated = !claims
        ? {
            credential: {accessKeyId: '', secretAccessKey: '', principal: ANONYMOUS_PRINCIPAL},
            body: unsigned!.body,
            trailers: {},
            contentLength: undefined,
          }
        : await (authenticateLoaded ?? (await loadAuthenticate()))({
            req,
            rawPath,
            rawQuery,
            claims,
            protocol,
            resolver,
            now: new Date(),
            bodyLimit: protocol === 'restjson' ? 8 * DEFAULT_BODY_LIMIT : DEFAULT_BODY_LIMIT,
            beforeBody,
          })
      beforeBody()
      const handler = await getService(service)!
      const principal = authenticated.credential.principal
      const ctx: RequestContext = {
        req,
        res,
        url,
        service,
        region: claims?.region ?? DEFAULT_REGION,
        requestId,
        principal,
        body: authenticated.body,
        trailers: authenticated.trailers,
        contentLength: authenticated.contentLength,
        stateDir: options.stateDir,
        endpoint,
        authorize: (action: string, resource: string, context?: ConditionContext) => {
          if (principal.kind === 'root') return
          const decision = resolver.authorize({principal, action, resource, context})
          if (decision === 'allow') return
          const how =
            decision === 'explicitDeny'
              ? 'with an explicit deny in an identity-based policy'
              : 'because no identity-based policy allows the action'
          events.record({
            service: service ?? 'unknown',
            kind: 'iam.denied',
            outcome: 'denied',
            summary: `${principal.arn} was refused ${action} on ${resource}`,
            reason:
              decision === 'explicitDeny' ? 'a statement of its policies explicitly denies it' : 'no statement of its policies allows it',
            resource,
            detail: {action, principal: principal.arn, ...(context ? {context} : {})},
          })
          throw new AwsError(
            'AccessDenied',
            `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource} ${how}`,
            403,
          )
        },
      }
      await handler.handle(ctx)
      if (!res.writableEnded && !res.headersSent) {
        throw new AwsError('InternalError', `The ${service} service finished without answering the request.`, 500)
      }
    } catch (thrown) {
      const error = asAwsError(thrown)
      if (!(thrown instanceof AwsError))
        log(`emulator: request ${requestId} (${req.method} ${rawPath}) failed: ${(thrown as Error)?.stack ?? thrown}`)
      // A body the client is still sending (or waiting to send) is not read: close instead of draining it.
      if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close')
      sendError({req, res, requestId, service}, protocol, error)
    }
  }

  const track = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    inFlight++
    res.once('close', () => {
      inFlight--
      if (inFlight === 0) drained?.()
    })
    void serve(req, res, expectsContinue)
  }

  const server = createServer({requestTimeout: 0, keepAliveTimeout: 30_000})
  server.on('request', (req, res) => track(req, res, false))
  // Node answers `Expect: 100-continue` itself unless told otherwise: we send 100 only once the signature checks out.
  server.on('checkContinue', (req, res) => track(req, res, true))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  endpoint = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`

  // Services that keep state resume in the background once the server answers (schedules, instances, retries).
  // setImmediate: after whatever the caller does at once with the endpoint (lifecycle writes and announces the record).
  const resuming = new Promise<void>((done) => {
    setImmediate(() => {
      // What every signed request needs, loaded while the first client is still preparing its request rather
      // than on that request's path; a failure here is the first signed request's to report (it loads again).
      warmUpSigner().catch(() => undefined)
      if (!options.identity) getIdentity().catch(() => undefined)
      const starts = Object.keys(factories)
        .filter((name) => existsSync(join(options.stateDir, name)))
        .map(async (name) => {
          const service = await getService(name)
          await service?.start?.()
        })
      void Promise.allSettled(starts).then((results) => {
        for (const result of results) if (result.status === 'rejected') log(`emulator: a service failed to resume: ${result.reason}`)
        done()
      })
    })
  })

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      await resuming
      clock.close()
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve
          setTimeout(resolve, options.closeTimeoutMs ?? 5000).unref()
        })
      }
      server.closeAllConnections()
      await stopped
      const made = await Promise.allSettled(services.values())
      for (const result of made) {
        if (result.status === 'fulfilled') await result.value.close?.()
      }
      const id = await identity?.catch(() => undefined)
      await (id as {close?: () => Promise<void>} | undefined)?.close?.()
      await events.drain()
    })()
    return closing
  }
  return {endpoint, port, clock, events, getService: (name) => getService(name) ?? Promise.resolve(undefined), close}
}
