/**
 * The contract between the emulator's server core and its services.
 *
 * The server core (server.ts) accepts a request, finds the service named in the
 * SigV4 credential scope (or the presigned URL's X-Amz-Credential), verifies the
 * signature, resolves the caller to a Principal, and hands a RequestContext to
 * the service's handler. A service keeps its state (state.ts, no HTTP) apart
 * from its wire handling (handler.ts), as moto does.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {EmulatorClock} from './clock.js'
import type {EventRecord} from './event-record.js'
import type {InternalApis} from './internal.js'

export const ACCOUNT_ID = '000000000000'
export const ADMIN_ACCESS_KEY_ID = 'test'
export const ADMIN_SECRET_ACCESS_KEY = 'test'
export const DEFAULT_REGION = 'us-east-1'

/** Who made a request, after its signature was verified. */
export interface Principal {
  /** root: the account's admin key pair (test/test); user: an IAM user's key; role: an assumed role's temporary key. */
  kind: 'root' | 'user' | 'role'
  accountId: string
  /** arn:aws:iam::000000000000:root, arn:aws:iam::000000000000:user/alice, arn:aws:sts::000000000000:assumed-role/R/session */
  arn: string
  /** AIDA… for users, AROA…:session for roles, the account id for root. */
  userId: string
  accessKeyId: string
  userName?: string
  /** For kind 'role': the role's ARN (arn:aws:iam::…:role/R) and the session name. */
  roleArn?: string
  sessionName?: string
}

/** A key the signature verifier can check a request against. */
export interface SigningCredential {
  accessKeyId: string
  secretAccessKey: string
  /** Temporary credentials carry a token that the request must present (X-Amz-Security-Token). */
  sessionToken?: string
  /** Temporary credentials past this instant are refused as expired (ExpiredToken), not as unknown. */
  expiration?: Date
  principal: Principal
}

/** Resolves an access key id to its secret and owner; implemented by the IAM/STS state. */
export interface CredentialResolver {
  resolve(accessKeyId: string): SigningCredential | undefined
}

/** Values a policy Condition can test (aws:username, s3:prefix, s3:delimiter, aws:SecureTransport, …). */
export type ConditionContext = Record<string, string | string[] | undefined>

export interface AuthorizationRequest {
  principal: Principal
  /** service:Action, for example s3:GetObject or iam:CreateUser. */
  action: string
  /** One ARN, for example arn:aws:s3:::bucket/key; '*' for actions with no resource. */
  resource: string
  context?: ConditionContext
}

export type AuthorizationDecision = 'allow' | 'explicitDeny' | 'implicitDeny'

/** Evaluates IAM policies; the root principal is always allowed. */
export interface Authorizer {
  authorize(request: AuthorizationRequest): AuthorizationDecision
}

/** Everything a service handler needs for one request. */
export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** The signing name from the credential scope: s3, iam, sts, ec2, lambda, … */
  service: string
  region: string
  requestId: string
  principal: Principal
  /**
   * The request body as a stream of its payload bytes: aws-chunked framing
   * (signed or unsigned, with trailers) is already removed and chunk signatures
   * verified by the core. Consume it at most once.
   */
  body: NodeJS.ReadableStream
  /** Trailing headers of an aws-chunked body (for example x-amz-checksum-crc32), filled once body has ended. */
  trailers: Record<string, string>
  /** Decoded payload length when known (x-amz-decoded-content-length or content-length). */
  contentLength?: number
  /** Throws AccessDenied (in the service's own error shape) unless policy evaluation allows it. */
  authorize(action: string, resource: string, context?: ConditionContext): void
  /** The emulator's shared state folder (each service keeps its files below `${stateDir}/<service>/`). */
  stateDir: string
  /** The endpoint clients reach this server at, http://127.0.0.1:PORT. */
  endpoint: string
}

export interface EmulatedService {
  /** The SigV4 signing name this service answers to. */
  readonly signingName: string
  handle(ctx: RequestContext): Promise<void>
  /** What other services may call (internal.ts): Lambda's invokeAsService, EventBridge's publish, EC2's exec… */
  readonly internal?: unknown
  /** Called once the server listens and every service can be reached: resume schedules, reconcile instances. */
  start?(): Promise<void>
  /** Flush and release anything held open; called on shutdown. */
  close?(): Promise<void>
}

/** What a service module exports: made lazily, the first time a request names it. */
export type ServiceFactory = (env: ServiceEnvironment) => Promise<EmulatedService> | EmulatedService

export interface ServiceEnvironment {
  stateDir: string
  endpoint: string
  /** Other services, by signing name, made on first use. */
  getService(signingName: string): Promise<EmulatedService | undefined>
  /** Another service's internal API (internal.ts), made on first use: how S3 reaches Lambda, EC2 reaches EventBridge. */
  internal<K extends keyof InternalApis>(signingName: K): Promise<InternalApis[K]>
  /** The one clock every time-based decision reads (clock.ts). */
  clock: EmulatorClock
  /** The record of what the emulator did and why (event-record.ts). */
  events: EventRecord
  /** The account's identity: IAM state, role sessions for Lambdas and instances, policy evaluation. */
  identity(): Promise<Identity>
}

/** The account's identity state (IAM users, keys, roles, STS sessions): resolves keys and evaluates policies. */
export interface Identity extends CredentialResolver, Authorizer {}

/** services/iam/index.ts exports `openIdentity: IdentityFactory`; the core opens it once per state folder. */
export type IdentityFactory = (stateDir: string) => Promise<Identity>
