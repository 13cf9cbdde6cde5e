/**
 * The account's Identity (types.ts): resolves access key ids to their secret
 * and principal (the admin pair, IAM users' Active keys, unexpired STS
 * sessions) and authorizes requests by evaluating the principal's identity
 * policies within its permissions boundary. Backed by the same IamState the IAM and STS services mutate.
 */
import {type PolicyDocument, parsePolicyDocument} from '../../policy/document.js'
import {evaluatePolicies, evaluateWithBoundary, requestValues} from '../../policy/evaluate.js'
import {
  ACCOUNT_ID,
  ADMIN_ACCESS_KEY_ID,
  ADMIN_SECRET_ACCESS_KEY,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type Identity,
  type Principal,
  type SigningCredential,
} from '../../types.js'
import type {PolicyHolder, UserRecord} from './model.js'
import type {IamState} from './state.js'

export const ROOT_PRINCIPAL: Principal = {
  kind: 'root',
  accountId: ACCOUNT_ID,
  arn: `arn:aws:iam::${ACCOUNT_ID}:root`,
  userId: ACCOUNT_ID,
  accessKeyId: ADMIN_ACCESS_KEY_ID,
}

const ADMIN_CREDENTIAL: SigningCredential = {
  accessKeyId: ADMIN_ACCESS_KEY_ID,
  secretAccessKey: ADMIN_SECRET_ACCESS_KEY,
  principal: ROOT_PRINCIPAL,
}

export const userPrincipal = (user: UserRecord, accessKeyId: string): Principal => ({
  kind: 'user',
  accountId: ACCOUNT_ID,
  arn: user.Arn,
  userId: user.UserId,
  accessKeyId,
  userName: user.UserName,
})

export class IamIdentity implements Identity {
  /** Parsed documents by their text: evaluation runs on every request, parsing once is enough. */
  private parsed = new Map<string, PolicyDocument>()

  constructor(readonly state: IamState) {}

  resolve(accessKeyId: string): SigningCredential | undefined {
    if (accessKeyId === ADMIN_ACCESS_KEY_ID) return ADMIN_CREDENTIAL
    if (accessKeyId.startsWith('ASIA')) return this.resolveSession(accessKeyId)
    const user = this.state.userOfAccessKey(accessKeyId)
    const key = user?.AccessKeys.find((candidate) => candidate.AccessKeyId === accessKeyId)
    if (!user || !key || key.Status !== 'Active') return undefined
    return {accessKeyId, secretAccessKey: key.SecretAccessKey, principal: userPrincipal(user, accessKeyId)}
  }

  private resolveSession(accessKeyId: string): SigningCredential | undefined {
    const session = this.state.data.sessions[accessKeyId]
    if (!session) return undefined
    const base = {
      accessKeyId,
      secretAccessKey: session.SecretAccessKey,
      sessionToken: session.SessionToken,
      expiration: new Date(session.Expiration),
    }
    if (session.RoleName !== undefined) {
      const role = this.state.findRole(session.RoleName)
      if (!role) return undefined
      const sessionName = session.RoleSessionName ?? 'session'
      return {
        ...base,
        principal: {
          kind: 'role',
          accountId: ACCOUNT_ID,
          arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.RoleName}/${sessionName}`,
          userId: `${role.RoleId}:${sessionName}`,
          accessKeyId,
          roleArn: role.Arn,
          sessionName,
        },
      }
    }
    const user = session.UserName === undefined ? undefined : this.state.findUser(session.UserName)
    return user ? {...base, principal: userPrincipal(user, accessKeyId)} : undefined
  }

  /** The identity policies in force for a principal: a user's own and its groups', or an assumed role's. */
  policiesOf(principal: Principal): PolicyDocument[] {
    const holders: PolicyHolder[] = []
    if (principal.kind === 'user' && principal.userName !== undefined) {
      const user = this.state.findUser(principal.userName)
      if (user) {
        holders.push(user)
        for (const key of user.Groups) {
          const group = this.state.data.groups[key]
          if (group) holders.push(group)
        }
      }
    } else if (principal.kind === 'role' && principal.roleArn !== undefined) {
      const role = this.state.findRole(principal.roleArn.split('/').pop() ?? '')
      if (role) holders.push(role)
    }
    const documents: PolicyDocument[] = []
    for (const holder of holders) {
      for (const text of Object.values(holder.InlinePolicies)) documents.push(this.parse(text))
      documents.push(...this.managed(holder.AttachedPolicyArns))
    }
    return documents
  }

  /** The default versions of managed policies, by ARN (a deleted one no longer grants anything). */
  private managed(arns: readonly string[]): PolicyDocument[] {
    const documents: PolicyDocument[] = []
    for (const arn of arns) {
      const policy = this.state.findPolicy(arn)
      const version = policy?.Versions.find((candidate) => candidate.VersionId === policy.DefaultVersionId)
      if (version) documents.push(this.parse(version.Document))
    }
    return documents
  }

  /** The principal's permissions boundary (a user's or an assumed role's), undefined when it has none. */
  boundaryOf(principal: Principal): PolicyDocument[] | undefined {
    let arn: string | undefined
    if (principal.kind === 'user' && principal.userName !== undefined) arn = this.state.findUser(principal.userName)?.PermissionsBoundary
    else if (principal.kind === 'role' && principal.roleArn !== undefined)
      arn = this.state.findRole(principal.roleArn.split('/').pop() ?? '')?.PermissionsBoundary
    // A boundary whose policy was deleted allows nothing, as on AWS.
    return arn === undefined ? undefined : this.managed([arn])
  }

  /** An assumed-role session's own policies, when AssumeRole was given any; undefined when it was not. */
  sessionPoliciesOf(principal: Principal): PolicyDocument[] | undefined {
    if (principal.kind !== 'role') return undefined
    const session = this.state.data.sessions[principal.accessKeyId]
    if (!session || (session.SessionPolicy === undefined && session.SessionPolicyArns === undefined)) return undefined
    const documents = this.managed(session.SessionPolicyArns ?? [])
    if (session.SessionPolicy !== undefined) documents.push(this.parse(session.SessionPolicy))
    return documents
  }

  private parse(text: string): PolicyDocument {
    let document = this.parsed.get(text)
    if (!document) {
      document = parsePolicyDocument(text)
      if (this.parsed.size > 1000) this.parsed.clear()
      this.parsed.set(text, document)
    }
    return document
  }

  authorize(request: AuthorizationRequest): AuthorizationDecision {
    if (request.principal.kind === 'root') return 'allow'
    const values = requestValues(request.principal, request.context, this.state.now())
    const asked = {action: request.action, resource: request.resource, values}
    // The permissions boundary caps what the identity policies allow: both must allow.
    const identity = evaluateWithBoundary(this.policiesOf(request.principal), this.boundaryOf(request.principal), asked)
    const sessionPolicies = this.sessionPoliciesOf(request.principal)
    if (sessionPolicies === undefined || identity === 'explicitDeny') return identity
    // Session policies only narrow: the request needs an allow from both the role's policies and the session's.
    const session = evaluatePolicies(sessionPolicies, asked)
    return session === 'allow' ? identity : session
  }
}
