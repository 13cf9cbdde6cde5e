/**
 * STS's wire (Query, version 2011-06-15): GetCallerIdentity, AssumeRole and
 * GetSessionToken over the IAM state. AssumeRole needs the role's trust policy
 * to allow the caller: naming it directly (its ARN, or anyone) is enough unless an
 * identity policy explicitly denies; naming only its account also needs an
 * identity policy allowing sts:AssumeRole on the role, as within one AWS account.
 * Its session policies (Policy, PolicyArns) are kept with the session and
 * narrow what the role allows (iam/identity.ts). AssumeRoleWithWebIdentity and
 * AssumeRoleWithSAML arrive unsigned (auth/unsigned.ts) and are answered with
 * STS's own errors, since no identity provider can be registered here.
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseQuery, type QueryParams, queryStructs, requireParam, sendQueryResult} from '../../protocols/query.js'
import {ACCOUNT_ID, type EmulatedService, type Principal, type RequestContext} from '../../types.js'
import type {IamIdentity} from '../iam/identity.js'
import {checkDocument} from '../iam/policies.js'
import {issueRoleSession, issueUserSession, trustDecision} from '../iam/roles.js'

const duration = (params: QueryParams) => {
  const value = params.DurationSeconds
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new AwsError('ValidationError', `DurationSeconds must be a whole number of seconds; got ${value}.`)
  return Number(value)
}

/** The operations this service answers; any other action is refused with InvalidAction. */
export const STS_ACTIONS: readonly string[] = [
  'GetCallerIdentity',
  'AssumeRole',
  'GetSessionToken',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleWithSAML',
  'GetAccessKeyInfo',
]

const invalidIdentityToken = (message: string) => new AwsError('InvalidIdentityToken', message, 400)

/** The claims of a JWT (not verified: it is refused anyway, for want of a provider to verify it against). */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * Federation as STS does it needs an identity provider registered in IAM
 * (CreateOpenIDConnectProvider, CreateSAMLProvider), which the emulator does
 * not serve: so every token or assertion is refused with STS's own error,
 * after the checks STS makes before it looks for the provider.
 */
function refuseFederation(action: string, params: QueryParams): never {
  requireParam(params, 'RoleArn')
  if (params.Policy !== undefined) checkDocument(params.Policy)
  if (action === 'AssumeRoleWithWebIdentity') {
    requireParam(params, 'RoleSessionName')
    const claims = jwtClaims(requireParam(params, 'WebIdentityToken'))
    if (!claims)
      throw invalidIdentityToken('The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)')
    const issuer = typeof claims.iss === 'string' ? claims.iss : '(no iss claim)'
    throw invalidIdentityToken(
      `No OpenIDConnect provider found in your account for ${issuer} (the emulator's IAM cannot register OpenID Connect providers).`,
    )
  }
  const provider = requireParam(params, 'PrincipalArn')
  const assertion = Buffer.from(requireParam(params, 'SAMLAssertion'), 'base64').toString('utf8')
  if (!/<([\w-]+:)?(Response|Assertion)[\s>]/.test(assertion))
    throw invalidIdentityToken('Invalid base64 SAMLResponse (not a SAML response).')
  throw invalidIdentityToken(
    `The SAML provider ${provider} does not exist in this account (the emulator's IAM cannot register SAML providers).`,
  )
}

const callerIdentity = (principal: Principal) => ({UserId: principal.userId, Account: principal.accountId, Arn: principal.arn})

export class StsService implements EmulatedService {
  readonly signingName = 'sts'

  constructor(readonly identity: IamIdentity) {}

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {action, params} = await parseQuery(ctx)
      const result = await this.run(ctx, action, params)
      sendQueryResult(ctx, action, result)
    } catch (error) {
      sendError(ctx, 'query', asAwsError(error))
    }
  }

  private async run(ctx: RequestContext, action: string, params: QueryParams): Promise<Record<string, unknown>> {
    const state = this.identity.state
    switch (action) {
      // Needs no permission on AWS either: anyone may ask who they are.
      case 'GetCallerIdentity':
        return callerIdentity(ctx.principal)
      case 'AssumeRole': {
        const roleArn = requireParam(params, 'RoleArn')
        const sessionName = requireParam(params, 'RoleSessionName')
        const role = state.findRole(roleArn.split('/').pop() ?? '')
        const denied = new AwsError(
          'AccessDenied',
          `User: ${ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
          403,
        )
        if (!role || role.Arn !== roleArn) throw denied
        if (ctx.principal.kind !== 'root') {
          const trust = trustDecision(role, ctx.principal, state.now())
          if (trust === 'deny') throw denied
          // Named directly by the trust policy: enough unless an identity policy explicitly denies.
          if (trust === 'direct') {
            const decision = this.identity.authorize({principal: ctx.principal, action: 'sts:AssumeRole', resource: role.Arn})
            if (decision === 'explicitDeny') throw denied
          } else ctx.authorize('sts:AssumeRole', role.Arn)
        }
        const policyArns = queryStructs(params, 'PolicyArns.member').map((entry) => entry.arn ?? '')
        const issued = issueRoleSession(state, {
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: duration(params),
          Policy: params.Policy,
          PolicyArns: policyArns,
        })
        await state.save()
        return issued
      }
      case 'GetSessionToken': {
        if (ctx.principal.kind !== 'user' || ctx.principal.userName === undefined || ctx.principal.accessKeyId.startsWith('ASIA')) {
          throw new AwsError(
            'AccessDenied',
            'Cannot call GetSessionToken with session credentials or as the account root here; call it with an IAM user access key.',
            403,
          )
        }
        const issued = issueUserSession(state, {UserName: ctx.principal.userName, DurationSeconds: duration(params)})
        await state.save()
        return issued
      }
      // The account an access key belongs to: the emulator has one account, so any well-formed key id is its.
      case 'GetAccessKeyInfo': {
        const keyId = requireParam(params, 'AccessKeyId')
        if (!/^[\w]{16,128}$/.test(keyId))
          throw new AwsError(
            'ValidationError',
            `1 validation error detected: Value '${keyId}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*`,
          )
        return {Account: ACCOUNT_ID}
      }
      case 'AssumeRoleWithWebIdentity':
      case 'AssumeRoleWithSAML':
        return refuseFederation(action, params)
      default:
        throw new AwsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`, 400)
    }
  }

  async close(): Promise<void> {
    await this.identity.state.flush()
  }
}
