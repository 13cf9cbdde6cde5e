/**
 * IAM's wire: Query requests in (version 2010-05-08), XML results out. Each
 * operation names the action and resource it is authorized against, reads its
 * parameters, and calls the state; behaviour lives in users.ts, policies.ts
 * and roles.ts. Policy documents go out URL-encoded, as AWS sends them.
 */
import {AwsError} from '../../errors.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseQuery, type QueryParams, queryList, queryStructs, requireParam, sendQueryResult} from '../../protocols/query.js'
import {ACCOUNT_ID, type ConditionContext, type EmulatedService, type RequestContext} from '../../types.js'
import {invalidInput} from './errors.js'
import type {IamIdentity} from './identity.js'
import {paginate} from './model.js'
import * as policies from './policies.js'
import * as roles from './roles.js'
import type {IamState} from './state.js'
import * as tags from './tags.js'
import * as users from './users.js'

interface Call {
  state: IamState
  params: QueryParams
  /** The calling user's name (undefined for the root account and for roles). */
  callerUserName?: string
}

interface Operation {
  /** The ARN the call is authorized against; the action is always iam:<Action>. */
  resource(call: Call): string
  run(call: Call): Record<string, unknown> | undefined
  /** Read-only calls skip the durable write. */
  readOnly?: boolean
}

/** Condition keys IAM puts in the request context: iam:PermissionsBoundary, aws:TagKeys and aws:RequestTag/<key>. */
function conditionContext(action: string, params: QueryParams): ConditionContext | undefined {
  const context: ConditionContext = {}
  if (params.PermissionsBoundary !== undefined && /^(Create(User|Role)|Put(User|Role)PermissionsBoundary)$/.test(action))
    context['iam:PermissionsBoundary'] = params.PermissionsBoundary
  const requestTags = queryStructs(params, 'Tags.member')
  if (requestTags.length > 0) {
    context['aws:TagKeys'] = requestTags.map((tag) => tag.Key ?? '')
    for (const tag of requestTags) context[`aws:RequestTag/${tag.Key ?? ''}`] = tag.Value ?? ''
  }
  const removed = queryList(params, 'TagKeys.member')
  if (removed.length > 0) context['aws:TagKeys'] = removed
  return Object.keys(context).length > 0 ? context : undefined
}

const arnOf = (kind: string, name: string) => `arn:aws:iam::${ACCOUNT_ID}:${kind}/${name}`
const text = (params: QueryParams, name: string) => params[name]
const need = (params: QueryParams, name: string) => requireParam(params, name)
const flag = (params: QueryParams, name: string) => (params[name] === undefined ? undefined : params[name] === 'true')
const integer = (params: QueryParams, name: string) => {
  const value = params[name]
  if (value === undefined) return undefined
  if (!/^-?\d+$/.test(value)) throw invalidInput(`${name} must be an integer; got ${value}.`)
  return Number(value)
}

/** The named user's ARN, else the caller's own (calls that default to the caller). */
const userArn = ({state, params, callerUserName}: Call) => {
  const name = params.UserName ?? callerUserName
  return name === undefined ? arnOf('user', '*') : (state.findUser(name)?.Arn ?? arnOf('user', name))
}
const groupArn = ({state, params}: Call) =>
  state.data.groups[need(params, 'GroupName').toLowerCase()]?.Arn ?? arnOf('group', need(params, 'GroupName'))
const roleArn = ({state, params}: Call) => state.findRole(need(params, 'RoleName'))?.Arn ?? arnOf('role', need(params, 'RoleName'))
const profileArn = ({state, params}: Call) =>
  state.data.instanceProfiles[need(params, 'InstanceProfileName').toLowerCase()]?.Arn ??
  arnOf('instance-profile', need(params, 'InstanceProfileName'))
const creating = (kind: string, member: string) => (call: Call) =>
  `arn:aws:iam::${ACCOUNT_ID}:${kind}${call.params.Path ?? '/'}${need(call.params, member)}`
const everyOf = (kind: string) => () => arnOf(kind, '*')

/** The user a key or caller-scoped call acts on: the named one, else the caller itself. */
function subjectUser(call: Call): string {
  const name = call.params.UserName ?? call.callerUserName
  if (name === undefined) throw invalidInput('The account root has no IAM user here; name the user (UserName).')
  return name
}

/** Wraps a full list in IAM's pagination members. */
function page<T>(params: QueryParams, member: string, items: T[], extra: Record<string, unknown> = {}) {
  const {page: slice, IsTruncated, Marker} = paginate(items, params.Marker, params.MaxItems)
  return {...extra, [member]: slice, IsTruncated, ...(Marker ? {Marker} : {})}
}

const readOnly = (operation: Omit<Operation, 'readOnly'>): Operation => ({...operation, readOnly: true})

type HolderKind = policies.HolderKind
const HOLDERS: [HolderKind, string, (call: Call) => string][] = [
  ['user', 'User', userArn],
  ['group', 'Group', groupArn],
  ['role', 'Role', roleArn],
]

function holderOperations(): Record<string, Operation> {
  const out: Record<string, Operation> = {}
  for (const [kind, title, resource] of HOLDERS) {
    const nameMember = `${title}Name`
    const name = (params: QueryParams) => need(params, nameMember)
    out[`Put${title}Policy`] = {
      resource,
      run: ({state, params}) =>
        void policies.putInlinePolicy(state, kind, {
          name: name(params),
          PolicyName: need(params, 'PolicyName'),
          PolicyDocument: need(params, 'PolicyDocument'),
        }),
    }
    out[`Get${title}Policy`] = readOnly({
      resource,
      run: ({state, params}) => {
        const found = policies.getInlinePolicy(state, kind, {name: name(params), PolicyName: need(params, 'PolicyName')})
        const owner =
          kind === 'user'
            ? state.user(name(params)).UserName
            : kind === 'group'
              ? state.group(name(params)).GroupName
              : state.role(name(params)).RoleName
        return {[nameMember]: owner, PolicyName: found.policyName, PolicyDocument: roles.encodeDocument(found.document)}
      },
    })
    out[`List${title}Policies`] = readOnly({
      resource,
      run: ({state, params}) => page(params, 'PolicyNames', policies.listInlinePolicies(state, kind, {name: name(params)})),
    })
    out[`Delete${title}Policy`] = {
      resource,
      run: ({state, params}) => void policies.deleteInlinePolicy(state, kind, {name: name(params), PolicyName: need(params, 'PolicyName')}),
    }
    out[`Attach${title}Policy`] = {
      resource,
      run: ({state, params}) => void policies.attachPolicy(state, kind, {name: name(params), PolicyArn: need(params, 'PolicyArn')}),
    }
    out[`Detach${title}Policy`] = {
      resource,
      run: ({state, params}) => void policies.detachPolicy(state, kind, {name: name(params), PolicyArn: need(params, 'PolicyArn')}),
    }
    out[`ListAttached${title}Policies`] = readOnly({
      resource,
      run: ({state, params}) =>
        page(
          params,
          'AttachedPolicies',
          policies.listAttachedPolicies(state, kind, {name: name(params), PathPrefix: text(params, 'PathPrefix')}),
        ),
    })
  }
  return out
}

/** The Tags member of a Create or Tag* call (Tags.member.N.Key / .Value). */
const tagsOf = (params: QueryParams) => queryStructs(params, 'Tags.member').map((tag) => ({Key: tag.Key ?? '', Value: tag.Value ?? ''}))

const TAGGABLE: [tags.Taggable, string, string, (call: Call) => string][] = [
  ['user', 'User', 'UserName', userArn],
  ['role', 'Role', 'RoleName', roleArn],
  ['policy', 'Policy', 'PolicyArn', ({params}) => need(params, 'PolicyArn')],
  ['instance profile', 'InstanceProfile', 'InstanceProfileName', profileArn],
]

/** Tag*, Untag* and List*Tags for every taggable kind. */
function tagOperations(): Record<string, Operation> {
  const out: Record<string, Operation> = {}
  for (const [kind, title, member, resource] of TAGGABLE) {
    out[`Tag${title}`] = {resource, run: ({state, params}) => void tags.tagResource(state, kind, need(params, member), tagsOf(params))}
    out[`Untag${title}`] = {
      resource,
      run: ({state, params}) => void tags.untagResource(state, kind, need(params, member), queryList(params, 'TagKeys.member')),
    }
    out[`List${title}Tags`] = readOnly({
      resource,
      run: ({state, params}) => page(params, 'Tags', tags.listTags(state, kind, need(params, member))),
    })
  }
  return out
}

/** Put/Delete{User,Role}PermissionsBoundary. */
function boundaryOperations(): Record<string, Operation> {
  const out: Record<string, Operation> = {}
  for (const [kind, title, resource] of [
    ['user', 'User', userArn],
    ['role', 'Role', roleArn],
  ] as const) {
    const name = (params: QueryParams) => need(params, `${title}Name`)
    out[`Put${title}PermissionsBoundary`] = {
      resource,
      run: ({state, params}) => void tags.putBoundary(state, kind, name(params), need(params, 'PermissionsBoundary')),
    }
    out[`Delete${title}PermissionsBoundary`] = {resource, run: ({state, params}) => void tags.deleteBoundary(state, kind, name(params))}
  }
  return out
}

const OPERATIONS: Record<string, Operation> = {
  CreateUser: {
    resource: creating('user', 'UserName'),
    run: ({state, params}) =>
      users.createUser(state, {
        UserName: need(params, 'UserName'),
        Path: text(params, 'Path'),
        PermissionsBoundary: text(params, 'PermissionsBoundary'),
        Tags: tagsOf(params),
      }),
  },
  GetUser: readOnly({
    resource: (call) =>
      call.params.UserName === undefined && call.callerUserName === undefined ? `arn:aws:iam::${ACCOUNT_ID}:root` : userArn(call),
    run: ({state, params, callerUserName}) => users.getUser(state, {UserName: text(params, 'UserName'), callerUserName}),
  }),
  ListUsers: readOnly({
    resource: everyOf('user'),
    run: ({state, params}) => page(params, 'Users', users.listUsers(state, {PathPrefix: text(params, 'PathPrefix')})),
  }),
  UpdateUser: {
    resource: userArn,
    run: ({state, params}) =>
      void users.updateUser(state, {
        UserName: need(params, 'UserName'),
        NewUserName: text(params, 'NewUserName'),
        NewPath: text(params, 'NewPath'),
      }),
  },
  DeleteUser: {resource: userArn, run: ({state, params}) => void users.deleteUser(state, {UserName: need(params, 'UserName')})},
  CreateGroup: {
    resource: creating('group', 'GroupName'),
    run: ({state, params}) => users.createGroup(state, {GroupName: need(params, 'GroupName'), Path: text(params, 'Path')}),
  },
  GetGroup: readOnly({
    resource: groupArn,
    run: ({state, params}) => {
      const {group, users: members} = users.getGroup(state, {GroupName: need(params, 'GroupName')})
      return page(params, 'Users', members, {Group: group})
    },
  }),
  ListGroups: readOnly({
    resource: everyOf('group'),
    run: ({state, params}) => page(params, 'Groups', users.listGroups(state, {PathPrefix: text(params, 'PathPrefix')})),
  }),
  UpdateGroup: {
    resource: groupArn,
    run: ({state, params}) =>
      void users.updateGroup(state, {
        GroupName: need(params, 'GroupName'),
        NewGroupName: text(params, 'NewGroupName'),
        NewPath: text(params, 'NewPath'),
      }),
  },
  DeleteGroup: {resource: groupArn, run: ({state, params}) => void users.deleteGroup(state, {GroupName: need(params, 'GroupName')})},
  AddUserToGroup: {
    resource: groupArn,
    run: ({state, params}) => void users.addUserToGroup(state, {GroupName: need(params, 'GroupName'), UserName: need(params, 'UserName')}),
  },
  RemoveUserFromGroup: {
    resource: groupArn,
    run: ({state, params}) =>
      void users.removeUserFromGroup(state, {GroupName: need(params, 'GroupName'), UserName: need(params, 'UserName')}),
  },
  ListGroupsForUser: readOnly({
    resource: userArn,
    run: ({state, params}) => page(params, 'Groups', users.listGroupsForUser(state, {UserName: need(params, 'UserName')})),
  }),
  ...holderOperations(),
  CreatePolicy: {
    resource: creating('policy', 'PolicyName'),
    run: ({state, params}) =>
      policies.createPolicy(state, {
        PolicyName: need(params, 'PolicyName'),
        PolicyDocument: need(params, 'PolicyDocument'),
        Path: text(params, 'Path'),
        Description: text(params, 'Description'),
        Tags: tagsOf(params),
      }),
  },
  GetPolicy: readOnly({
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) => policies.getPolicy(state, {PolicyArn: need(params, 'PolicyArn')}),
  }),
  ListPolicies: readOnly({
    resource: everyOf('policy'),
    run: ({state, params}) =>
      page(
        params,
        'Policies',
        policies.listPolicies(state, {
          Scope: text(params, 'Scope'),
          OnlyAttached: flag(params, 'OnlyAttached'),
          PathPrefix: text(params, 'PathPrefix'),
        }),
      ),
  }),
  DeletePolicy: {
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) => void policies.deletePolicy(state, {PolicyArn: need(params, 'PolicyArn')}),
  },
  CreatePolicyVersion: {
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) =>
      policies.createPolicyVersion(state, {
        PolicyArn: need(params, 'PolicyArn'),
        PolicyDocument: need(params, 'PolicyDocument'),
        SetAsDefault: flag(params, 'SetAsDefault'),
      }),
  },
  GetPolicyVersion: readOnly({
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) => {
      const {document, ...version} = policies.getPolicyVersion(state, {
        PolicyArn: need(params, 'PolicyArn'),
        VersionId: need(params, 'VersionId'),
      })
      return {PolicyVersion: {Document: roles.encodeDocument(document), ...version}}
    },
  }),
  ListPolicyVersions: readOnly({
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) => page(params, 'Versions', policies.listPolicyVersions(state, {PolicyArn: need(params, 'PolicyArn')})),
  }),
  DeletePolicyVersion: {
    resource: ({params}) => need(params, 'PolicyArn'),
    run: ({state, params}) =>
      void policies.deletePolicyVersion(state, {PolicyArn: need(params, 'PolicyArn'), VersionId: need(params, 'VersionId')}),
  },
  CreateAccessKey: {resource: userArn, run: (call) => users.createAccessKey(call.state, {UserName: subjectUser(call)})},
  ListAccessKeys: readOnly({
    resource: userArn,
    run: (call) => {
      const name = subjectUser(call)
      return page(call.params, 'AccessKeyMetadata', users.listAccessKeys(call.state, {UserName: name}), {
        UserName: call.state.user(name).UserName,
      })
    },
  }),
  UpdateAccessKey: {
    resource: userArn,
    run: (call) =>
      void users.updateAccessKey(call.state, {
        UserName: subjectUser(call),
        AccessKeyId: need(call.params, 'AccessKeyId'),
        Status: need(call.params, 'Status'),
      }),
  },
  DeleteAccessKey: {
    resource: userArn,
    run: (call) => void users.deleteAccessKey(call.state, {UserName: subjectUser(call), AccessKeyId: need(call.params, 'AccessKeyId')}),
  },
  CreateLoginProfile: {
    resource: userArn,
    run: ({state, params}) =>
      users.createLoginProfile(state, {
        UserName: need(params, 'UserName'),
        Password: need(params, 'Password'),
        PasswordResetRequired: flag(params, 'PasswordResetRequired'),
      }),
  },
  GetLoginProfile: readOnly({
    resource: userArn,
    run: ({state, params}) => users.getLoginProfile(state, {UserName: need(params, 'UserName')}),
  }),
  UpdateLoginProfile: {
    resource: userArn,
    run: ({state, params}) =>
      void users.updateLoginProfile(state, {
        UserName: need(params, 'UserName'),
        Password: text(params, 'Password'),
        PasswordResetRequired: flag(params, 'PasswordResetRequired'),
      }),
  },
  DeleteLoginProfile: {
    resource: userArn,
    run: ({state, params}) => void users.deleteLoginProfile(state, {UserName: need(params, 'UserName')}),
  },
  ChangePassword: {
    resource: ({callerUserName}) => (callerUserName === undefined ? `arn:aws:iam::${ACCOUNT_ID}:root` : arnOf('user', callerUserName)),
    run: ({state, params, callerUserName}) =>
      void users.changePassword(state, {
        callerUserName,
        OldPassword: need(params, 'OldPassword'),
        NewPassword: need(params, 'NewPassword'),
      }),
  },
  GetAccountPasswordPolicy: readOnly({resource: () => '*', run: () => policies.getAccountPasswordPolicy()}),
  CreateRole: {
    resource: creating('role', 'RoleName'),
    run: ({state, params}) =>
      roles.createRole(state, {
        RoleName: need(params, 'RoleName'),
        AssumeRolePolicyDocument: need(params, 'AssumeRolePolicyDocument'),
        Path: text(params, 'Path'),
        Description: text(params, 'Description'),
        MaxSessionDuration: integer(params, 'MaxSessionDuration'),
        PermissionsBoundary: text(params, 'PermissionsBoundary'),
        Tags: tagsOf(params),
      }),
  },
  GetRole: readOnly({resource: roleArn, run: ({state, params}) => ({Role: roles.roleView(state.role(need(params, 'RoleName')), true)})}),
  UpdateRole: {
    resource: roleArn,
    // UpdateRole answers with an empty result element, unlike most Update calls.
    run: ({state, params}) => {
      roles.updateRole(state, {
        RoleName: need(params, 'RoleName'),
        Description: text(params, 'Description'),
        MaxSessionDuration: integer(params, 'MaxSessionDuration'),
      })
      return {}
    },
  },
  UpdateRoleDescription: {
    resource: roleArn,
    run: ({state, params}) =>
      roles.updateRoleDescription(state, {RoleName: need(params, 'RoleName'), Description: need(params, 'Description')}),
  },
  UpdateAssumeRolePolicy: {
    resource: roleArn,
    run: ({state, params}) =>
      void roles.updateAssumeRolePolicy(state, {RoleName: need(params, 'RoleName'), PolicyDocument: need(params, 'PolicyDocument')}),
  },
  ...boundaryOperations(),
  ...tagOperations(),
  UploadSigningCertificate: {
    resource: userArn,
    run: (call) =>
      users.uploadSigningCertificate(call.state, {UserName: subjectUser(call), CertificateBody: need(call.params, 'CertificateBody')}),
  },
  ListSigningCertificates: readOnly({
    resource: userArn,
    run: (call) => page(call.params, 'Certificates', users.listSigningCertificates(call.state, {UserName: subjectUser(call)})),
  }),
  UpdateSigningCertificate: {
    resource: userArn,
    run: (call) =>
      void users.updateSigningCertificate(call.state, {
        UserName: subjectUser(call),
        CertificateId: need(call.params, 'CertificateId'),
        Status: need(call.params, 'Status'),
      }),
  },
  DeleteSigningCertificate: {
    resource: userArn,
    run: (call) =>
      void users.deleteSigningCertificate(call.state, {UserName: subjectUser(call), CertificateId: need(call.params, 'CertificateId')}),
  },
  ListRoles: readOnly({
    resource: everyOf('role'),
    run: ({state, params}) => page(params, 'Roles', roles.listRoles(state, {PathPrefix: text(params, 'PathPrefix')})),
  }),
  DeleteRole: {resource: roleArn, run: ({state, params}) => void roles.deleteRole(state, {RoleName: need(params, 'RoleName')})},
  CreateInstanceProfile: {
    resource: creating('instance-profile', 'InstanceProfileName'),
    run: ({state, params}) =>
      roles.createInstanceProfile(state, {
        InstanceProfileName: need(params, 'InstanceProfileName'),
        Path: text(params, 'Path'),
        Tags: tagsOf(params),
      }),
  },
  GetInstanceProfile: readOnly({
    resource: profileArn,
    run: ({state, params}) => ({
      InstanceProfile: roles.profileView(state, state.instanceProfile(need(params, 'InstanceProfileName')), true),
    }),
  }),
  ListInstanceProfiles: readOnly({
    resource: everyOf('instance-profile'),
    run: ({state, params}) => page(params, 'InstanceProfiles', roles.listInstanceProfiles(state, {PathPrefix: text(params, 'PathPrefix')})),
  }),
  AddRoleToInstanceProfile: {
    resource: profileArn,
    run: ({state, params}) =>
      void roles.addRoleToInstanceProfile(state, {
        InstanceProfileName: need(params, 'InstanceProfileName'),
        RoleName: need(params, 'RoleName'),
      }),
  },
  RemoveRoleFromInstanceProfile: {
    resource: profileArn,
    run: ({state, params}) =>
      void roles.removeRoleFromInstanceProfile(state, {
        InstanceProfileName: need(params, 'InstanceProfileName'),
        RoleName: need(params, 'RoleName'),
      }),
  },
  DeleteInstanceProfile: {
    resource: profileArn,
    run: ({state, params}) => void roles.deleteInstanceProfile(state, {InstanceProfileName: need(params, 'InstanceProfileName')}),
  },
}

export const IAM_ACTIONS: readonly string[] = Object.keys(OPERATIONS)

export class IamService implements EmulatedService {
  readonly signingName = 'iam'

  constructor(readonly identity: IamIdentity) {}

  async handle(ctx: RequestContext): Promise<void> {
    try {
      const {action, params} = await parseQuery(ctx)
      const operation = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined
      if (!operation) throw new AwsError('InvalidAction', `Could not find operation ${action} for version 2010-05-08`, 400)
      const state = this.identity.state
      const call: Call = {state, params, callerUserName: ctx.principal.kind === 'user' ? ctx.principal.userName : undefined}
      if (ctx.principal.kind !== 'root') ctx.authorize(`iam:${action}`, operation.resource(call), conditionContext(action, params))
      const result = operation.run(call)
      if (!operation.readOnly) await state.save()
      sendQueryResult(ctx, action, result)
    } catch (error) {
      sendError(ctx, 'query', asAwsError(error))
    }
  }

  async close(): Promise<void> {
    await this.identity.state.flush()
  }
}
