/**
 * The IAM types over the emulated IAM: User (login profile, groups, policies),
 * Group, Role, Policy, ManagedPolicy, InstanceProfile, AccessKey and
 * UserToGroupAddition. Names and paths replace; documents, memberships and
 * attachments are applied in place, as AWS documents each type.
 */
import {sdk} from './clients.js'
import {isNotFound, json, type ProvisionContext, type ResourceProvider, str, tagList} from './types.js'

type Props = Record<string, unknown>
type Iam = typeof import('@aws-sdk/client-iam')

const iamSdk = (): Promise<Iam> => sdk.iam()
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [])
const policies = (value: unknown): {PolicyName: string; PolicyDocument: unknown}[] =>
  Array.isArray(value) ? value.map((p) => ({PolicyName: String(p.PolicyName), PolicyDocument: p.PolicyDocument})) : []
const ignoreMissing = (error: unknown) => {
  if (!isNotFound(error)) throw error
}

type Kind = 'User' | 'Group' | 'Role'

/** Inline policies and managed policy attachments of a user, group or role, brought from `old` to `props`. */
async function syncPolicies(ctx: ProvisionContext, kind: Kind, name: string, props: Props, old: Props = {}): Promise<void> {
  const iam = await ctx.clients.iam()
  const m = (await iamSdk()) as unknown as Record<string, new (input: Record<string, unknown>) => never>
  const nameKey = `${kind}Name`
  const wanted = policies(props.Policies)
  const had = policies(old.Policies)
  for (const policy of wanted) {
    const before = had.find((p) => p.PolicyName === policy.PolicyName)
    if (before && JSON.stringify(before.PolicyDocument) === JSON.stringify(policy.PolicyDocument)) continue
    await iam.send(
      new m[`Put${kind}PolicyCommand`]!({[nameKey]: name, PolicyName: policy.PolicyName, PolicyDocument: json(policy.PolicyDocument)}),
    )
  }
  for (const policy of had) {
    if (!wanted.some((p) => p.PolicyName === policy.PolicyName)) {
      await iam.send(new m[`Delete${kind}PolicyCommand`]!({[nameKey]: name, PolicyName: policy.PolicyName})).catch(ignoreMissing)
    }
  }
  const arns = list(props.ManagedPolicyArns)
  const hadArns = list(old.ManagedPolicyArns)
  for (const arn of arns)
    if (!hadArns.includes(arn)) await iam.send(new m[`Attach${kind}PolicyCommand`]!({[nameKey]: name, PolicyArn: arn}))
  for (const arn of hadArns) {
    if (!arns.includes(arn)) await iam.send(new m[`Detach${kind}PolicyCommand`]!({[nameKey]: name, PolicyArn: arn})).catch(ignoreMissing)
  }
}

async function removePolicies(ctx: ProvisionContext, kind: Kind, name: string, props: Props): Promise<void> {
  await syncPolicies(ctx, kind, name, {}, props)
}

async function syncGroups(ctx: ProvisionContext, user: string, groups: string[], had: string[]): Promise<void> {
  const iam = await ctx.clients.iam()
  const {AddUserToGroupCommand, RemoveUserFromGroupCommand} = await iamSdk()
  for (const group of groups) if (!had.includes(group)) await iam.send(new AddUserToGroupCommand({GroupName: group, UserName: user}))
  for (const group of had) {
    if (!groups.includes(group)) await iam.send(new RemoveUserFromGroupCommand({GroupName: group, UserName: user})).catch(ignoreMissing)
  }
}

async function syncLoginProfile(ctx: ProvisionContext, user: string, profile: Props | undefined, old: Props | undefined): Promise<void> {
  const iam = await ctx.clients.iam()
  const {CreateLoginProfileCommand, UpdateLoginProfileCommand, DeleteLoginProfileCommand} = await iamSdk()
  const reset = (p: Props) => p.PasswordResetRequired === true || p.PasswordResetRequired === 'true'
  if (profile && !old) {
    await iam.send(
      new CreateLoginProfileCommand({UserName: user, Password: String(profile.Password), PasswordResetRequired: reset(profile)}),
    )
  } else if (profile && old && JSON.stringify(profile) !== JSON.stringify(old)) {
    await iam.send(
      new UpdateLoginProfileCommand({UserName: user, Password: String(profile.Password), PasswordResetRequired: reset(profile)}),
    )
  } else if (!profile && old) await iam.send(new DeleteLoginProfileCommand({UserName: user})).catch(ignoreMissing)
}

const arnOf = (ctx: ProvisionContext, kind: string, path: unknown, name: string) =>
  `arn:aws:iam::${ctx.accountId}:${kind}${String(path ?? '/')}${name}`

export const user: ResourceProvider = {
  replacement: {UserName: 'Always'},
  attributes: ['Arn'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreateUserCommand, DeleteUserCommand} = await iamSdk()
    const name = str(props.UserName) ?? ctx.generateName({max: 64})
    const made = await iam.send(
      new CreateUserCommand({
        UserName: name,
        Path: str(props.Path),
        PermissionsBoundary: str(props.PermissionsBoundary),
        Tags: tagList(props.Tags),
      }),
    )
    try {
      await syncGroups(ctx, name, list(props.Groups), [])
      await syncLoginProfile(ctx, name, props.LoginProfile as Props | undefined, undefined)
      await syncPolicies(ctx, 'User', name, props)
    } catch (error) {
      await user.delete(ctx, name, props).catch(() => iam.send(new DeleteUserCommand({UserName: name})).catch(() => undefined))
      throw error
    }
    return {physicalId: name, attributes: {Arn: made.User?.Arn ?? arnOf(ctx, 'user', props.Path, name)}}
  },
  async update(ctx, props, old) {
    const name = ctx.physicalId!
    const iam = await ctx.clients.iam()
    const {UpdateUserCommand} = await iamSdk()
    if (str(props.Path) !== str(old.Path)) await iam.send(new UpdateUserCommand({UserName: name, NewPath: str(props.Path) ?? '/'}))
    await syncGroups(ctx, name, list(props.Groups), list(old.Groups))
    await syncLoginProfile(ctx, name, props.LoginProfile as Props | undefined, old.LoginProfile as Props | undefined)
    await syncPolicies(ctx, 'User', name, props, old)
    return {physicalId: name, attributes: {Arn: arnOf(ctx, 'user', props.Path, name)}}
  },
  async delete(ctx, name, props) {
    const iam = await ctx.clients.iam()
    const {DeleteUserCommand} = await iamSdk()
    try {
      await syncGroups(ctx, name, [], list(props.Groups))
      await syncLoginProfile(ctx, name, undefined, (props.LoginProfile as Props | undefined) ?? {})
      await removePolicies(ctx, 'User', name, props)
      await iam.send(new DeleteUserCommand({UserName: name}))
    } catch (error) {
      ignoreMissing(error)
    }
  },
}

export const group: ResourceProvider = {
  replacement: {GroupName: 'Always'},
  attributes: ['Arn'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreateGroupCommand, DeleteGroupCommand} = await iamSdk()
    const name = str(props.GroupName) ?? ctx.generateName({max: 128})
    const made = await iam.send(new CreateGroupCommand({GroupName: name, Path: str(props.Path)}))
    try {
      await syncPolicies(ctx, 'Group', name, props)
    } catch (error) {
      await removePolicies(ctx, 'Group', name, props).catch(() => undefined)
      await iam.send(new DeleteGroupCommand({GroupName: name})).catch(() => undefined)
      throw error
    }
    return {physicalId: name, attributes: {Arn: made.Group?.Arn ?? arnOf(ctx, 'group', props.Path, name)}}
  },
  async update(ctx, props, old) {
    const name = ctx.physicalId!
    const iam = await ctx.clients.iam()
    const {UpdateGroupCommand} = await iamSdk()
    if (str(props.Path) !== str(old.Path)) await iam.send(new UpdateGroupCommand({GroupName: name, NewPath: str(props.Path) ?? '/'}))
    await syncPolicies(ctx, 'Group', name, props, old)
    return {physicalId: name, attributes: {Arn: arnOf(ctx, 'group', props.Path, name)}}
  },
  async delete(ctx, name, props) {
    const iam = await ctx.clients.iam()
    const {DeleteGroupCommand} = await iamSdk()
    try {
      await removePolicies(ctx, 'Group', name, props)
      await iam.send(new DeleteGroupCommand({GroupName: name}))
    } catch (error) {
      ignoreMissing(error)
    }
  },
}

export const role: ResourceProvider = {
  replacement: {RoleName: 'Always', Path: 'Always'},
  required: ['AssumeRolePolicyDocument'],
  attributes: ['Arn', 'RoleId'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreateRoleCommand, DeleteRoleCommand} = await iamSdk()
    const name = str(props.RoleName) ?? ctx.generateName({max: 64})
    const made = await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: str(props.Path),
        AssumeRolePolicyDocument: json(props.AssumeRolePolicyDocument),
        Description: str(props.Description),
        MaxSessionDuration: props.MaxSessionDuration === undefined ? undefined : Number(props.MaxSessionDuration),
        PermissionsBoundary: str(props.PermissionsBoundary),
        Tags: tagList(props.Tags),
      }),
    )
    try {
      await syncPolicies(ctx, 'Role', name, props)
    } catch (error) {
      await removePolicies(ctx, 'Role', name, props).catch(() => undefined)
      await iam.send(new DeleteRoleCommand({RoleName: name})).catch(() => undefined)
      throw error
    }
    return {physicalId: name, attributes: {Arn: made.Role!.Arn, RoleId: made.Role!.RoleId}}
  },
  async update(ctx, props, old) {
    const name = ctx.physicalId!
    const iam = await ctx.clients.iam()
    const {UpdateAssumeRolePolicyCommand, UpdateRoleCommand} = await iamSdk()
    if (JSON.stringify(props.AssumeRolePolicyDocument) !== JSON.stringify(old.AssumeRolePolicyDocument)) {
      await iam.send(new UpdateAssumeRolePolicyCommand({RoleName: name, PolicyDocument: json(props.AssumeRolePolicyDocument)}))
    }
    if (props.Description !== old.Description || props.MaxSessionDuration !== old.MaxSessionDuration) {
      await iam.send(
        new UpdateRoleCommand({
          RoleName: name,
          Description: str(props.Description) ?? '',
          MaxSessionDuration: props.MaxSessionDuration === undefined ? undefined : Number(props.MaxSessionDuration),
        }),
      )
    }
    await syncPolicies(ctx, 'Role', name, props, old)
    return {physicalId: name, attributes: ctx.attributes}
  },
  async delete(ctx, name, props) {
    const iam = await ctx.clients.iam()
    const {DeleteRoleCommand} = await iamSdk()
    try {
      await removePolicies(ctx, 'Role', name, props)
      await iam.send(new DeleteRoleCommand({RoleName: name}))
    } catch (error) {
      ignoreMissing(error)
    }
  },
}

/** AWS::IAM::Policy: one inline policy put on each of its users, groups and roles. */
export const inlinePolicy: ResourceProvider = {
  required: ['PolicyName', 'PolicyDocument'],
  attributes: ['Id'],
  async create(ctx, props) {
    await applyInline(ctx, props, {})
    const id = ctx.generateName({max: 128})
    return {physicalId: id, attributes: {Id: id}}
  },
  async update(ctx, props, old) {
    await applyInline(ctx, props, old)
    return {physicalId: ctx.physicalId!, attributes: {Id: ctx.physicalId!}}
  },
  async delete(ctx, _id, props) {
    await applyInline(ctx, {}, props)
  },
}

async function applyInline(ctx: ProvisionContext, props: Props, old: Props): Promise<void> {
  const iam = await ctx.clients.iam()
  const m = (await iamSdk()) as unknown as Record<string, new (input: Record<string, unknown>) => never>
  for (const [kind, key] of [
    ['User', 'Users'],
    ['Group', 'Groups'],
    ['Role', 'Roles'],
  ] as const) {
    const now = props.PolicyName === undefined ? [] : list(props[key])
    const before = old.PolicyName === undefined ? [] : list(old[key])
    for (const name of before) {
      if (!now.includes(name) || props.PolicyName !== old.PolicyName) {
        await iam
          .send(new m[`Delete${kind}PolicyCommand`]!({[`${kind}Name`]: name, PolicyName: String(old.PolicyName)}))
          .catch(ignoreMissing)
      }
    }
    for (const name of now) {
      await iam.send(
        new m[`Put${kind}PolicyCommand`]!({
          [`${kind}Name`]: name,
          PolicyName: String(props.PolicyName),
          PolicyDocument: json(props.PolicyDocument),
        }),
      )
    }
  }
}

async function attachManaged(ctx: ProvisionContext, arn: string, props: Props, old: Props): Promise<void> {
  const iam = await ctx.clients.iam()
  const m = (await iamSdk()) as unknown as Record<string, new (input: Record<string, unknown>) => never>
  for (const [kind, key] of [
    ['User', 'Users'],
    ['Group', 'Groups'],
    ['Role', 'Roles'],
  ] as const) {
    const now = list(props[key])
    const before = list(old[key])
    for (const name of now)
      if (!before.includes(name)) await iam.send(new m[`Attach${kind}PolicyCommand`]!({[`${kind}Name`]: name, PolicyArn: arn}))
    for (const name of before) {
      if (!now.includes(name))
        await iam.send(new m[`Detach${kind}PolicyCommand`]!({[`${kind}Name`]: name, PolicyArn: arn})).catch(ignoreMissing)
    }
  }
}

export const managedPolicy: ResourceProvider = {
  replacement: {ManagedPolicyName: 'Always', Path: 'Always', Description: 'Always'},
  required: ['PolicyDocument'],
  attributes: ['PolicyArn', 'PolicyId', 'DefaultVersionId', 'AttachmentCount', 'IsAttachable', 'CreateDate', 'UpdateDate'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreatePolicyCommand, DeletePolicyCommand} = await iamSdk()
    const name = str(props.ManagedPolicyName) ?? ctx.generateName({max: 128})
    const made = await iam.send(
      new CreatePolicyCommand({
        PolicyName: name,
        Path: str(props.Path),
        Description: str(props.Description),
        PolicyDocument: json(props.PolicyDocument),
      }),
    )
    const arn = made.Policy!.Arn!
    try {
      await attachManaged(ctx, arn, props, {})
    } catch (error) {
      await attachManaged(ctx, arn, {}, props).catch(() => undefined)
      await iam.send(new DeletePolicyCommand({PolicyArn: arn})).catch(() => undefined)
      throw error
    }
    return {physicalId: arn, attributes: {PolicyArn: arn, PolicyId: made.Policy!.PolicyId, DefaultVersionId: 'v1', IsAttachable: 'true'}}
  },
  async update(ctx, props, old) {
    const arn = ctx.physicalId!
    const iam = await ctx.clients.iam()
    const {CreatePolicyVersionCommand, ListPolicyVersionsCommand, DeletePolicyVersionCommand} = await iamSdk()
    let attributes = ctx.attributes
    if (JSON.stringify(props.PolicyDocument) !== JSON.stringify(old.PolicyDocument)) {
      const versions = await iam.send(new ListPolicyVersionsCommand({PolicyArn: arn}))
      const old = (versions.Versions ?? []).filter((v) => !v.IsDefaultVersion)
      if ((versions.Versions ?? []).length >= 5 && old.length > 0) {
        const oldest = old.sort((a, b) => Number(a.CreateDate) - Number(b.CreateDate))[0]!
        await iam.send(new DeletePolicyVersionCommand({PolicyArn: arn, VersionId: oldest.VersionId}))
      }
      const made = await iam.send(
        new CreatePolicyVersionCommand({PolicyArn: arn, PolicyDocument: json(props.PolicyDocument), SetAsDefault: true}),
      )
      attributes = {...attributes, DefaultVersionId: made.PolicyVersion?.VersionId}
    }
    await attachManaged(ctx, arn, props, old)
    return {physicalId: arn, attributes}
  },
  async delete(ctx, arn, props) {
    const iam = await ctx.clients.iam()
    const {DeletePolicyCommand, ListPolicyVersionsCommand, DeletePolicyVersionCommand} = await iamSdk()
    try {
      await attachManaged(ctx, arn, {}, props)
      const versions = await iam.send(new ListPolicyVersionsCommand({PolicyArn: arn}))
      for (const version of versions.Versions ?? []) {
        if (!version.IsDefaultVersion) await iam.send(new DeletePolicyVersionCommand({PolicyArn: arn, VersionId: version.VersionId}))
      }
      await iam.send(new DeletePolicyCommand({PolicyArn: arn}))
    } catch (error) {
      ignoreMissing(error)
    }
  },
}

export const instanceProfile: ResourceProvider = {
  replacement: {InstanceProfileName: 'Always', Path: 'Always'},
  required: ['Roles'],
  attributes: ['Arn'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand} = await iamSdk()
    const name = str(props.InstanceProfileName) ?? ctx.generateName({max: 128})
    const made = await iam.send(new CreateInstanceProfileCommand({InstanceProfileName: name, Path: str(props.Path)}))
    for (const roleName of list(props.Roles))
      await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: name, RoleName: roleName}))
    return {physicalId: name, attributes: {Arn: made.InstanceProfile!.Arn}}
  },
  async update(ctx, props, old) {
    const iam = await ctx.clients.iam()
    const {AddRoleToInstanceProfileCommand, RemoveRoleFromInstanceProfileCommand} = await iamSdk()
    const name = ctx.physicalId!
    for (const r of list(old.Roles)) {
      if (!list(props.Roles).includes(r))
        await iam.send(new RemoveRoleFromInstanceProfileCommand({InstanceProfileName: name, RoleName: r})).catch(ignoreMissing)
    }
    for (const r of list(props.Roles))
      if (!list(old.Roles).includes(r)) await iam.send(new AddRoleToInstanceProfileCommand({InstanceProfileName: name, RoleName: r}))
    return {physicalId: name, attributes: ctx.attributes}
  },
  async delete(ctx, name, props) {
    const iam = await ctx.clients.iam()
    const {DeleteInstanceProfileCommand, RemoveRoleFromInstanceProfileCommand} = await iamSdk()
    try {
      for (const r of list(props.Roles))
        await iam.send(new RemoveRoleFromInstanceProfileCommand({InstanceProfileName: name, RoleName: r})).catch(ignoreMissing)
      await iam.send(new DeleteInstanceProfileCommand({InstanceProfileName: name}))
    } catch (error) {
      ignoreMissing(error)
    }
  },
}

export const accessKey: ResourceProvider = {
  replacement: {UserName: 'Always', Serial: 'Always'},
  required: ['UserName'],
  attributes: ['SecretAccessKey'],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {CreateAccessKeyCommand, UpdateAccessKeyCommand} = await iamSdk()
    const made = await iam.send(new CreateAccessKeyCommand({UserName: String(props.UserName)}))
    const key = made.AccessKey!
    if (props.Status === 'Inactive') {
      await iam.send(new UpdateAccessKeyCommand({UserName: String(props.UserName), AccessKeyId: key.AccessKeyId, Status: 'Inactive'}))
    }
    return {physicalId: key.AccessKeyId!, attributes: {SecretAccessKey: key.SecretAccessKey}}
  },
  async update(ctx, props) {
    const iam = await ctx.clients.iam()
    const {UpdateAccessKeyCommand} = await iamSdk()
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: String(props.UserName),
        AccessKeyId: ctx.physicalId!,
        Status: props.Status === 'Inactive' ? 'Inactive' : 'Active',
      }),
    )
    return {physicalId: ctx.physicalId!, attributes: ctx.attributes}
  },
  async delete(ctx, id, props) {
    const iam = await ctx.clients.iam()
    const {DeleteAccessKeyCommand} = await iamSdk()
    await iam.send(new DeleteAccessKeyCommand({UserName: String(props.UserName), AccessKeyId: id})).catch(ignoreMissing)
  },
}

export const userToGroupAddition: ResourceProvider = {
  required: ['GroupName', 'Users'],
  attributes: [],
  async create(ctx, props) {
    const iam = await ctx.clients.iam()
    const {AddUserToGroupCommand} = await iamSdk()
    for (const name of list(props.Users)) await iam.send(new AddUserToGroupCommand({GroupName: String(props.GroupName), UserName: name}))
    return {physicalId: ctx.generateName({max: 128})}
  },
  async update(ctx, props, old) {
    const iam = await ctx.clients.iam()
    const {AddUserToGroupCommand, RemoveUserFromGroupCommand} = await iamSdk()
    const group = String(props.GroupName)
    if (String(old.GroupName) !== group) {
      for (const name of list(old.Users))
        await iam.send(new RemoveUserFromGroupCommand({GroupName: String(old.GroupName), UserName: name})).catch(ignoreMissing)
    }
    for (const name of list(props.Users)) await iam.send(new AddUserToGroupCommand({GroupName: group, UserName: name}))
    if (String(old.GroupName) === group) {
      for (const name of list(old.Users)) {
        if (!list(props.Users).includes(name))
          await iam.send(new RemoveUserFromGroupCommand({GroupName: group, UserName: name})).catch(ignoreMissing)
      }
    }
    return {physicalId: ctx.physicalId!}
  },
  async delete(ctx, _id, props) {
    const iam = await ctx.clients.iam()
    const {RemoveUserFromGroupCommand} = await iamSdk()
    for (const name of list(props.Users))
      await iam.send(new RemoveUserFromGroupCommand({GroupName: String(props.GroupName), UserName: name})).catch(ignoreMissing)
  },
}
