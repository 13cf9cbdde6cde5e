/**
 * Inline policies (of users, groups, roles), customer managed policies with
 * their versions, attachments, and the account password policy.
 */

import {AwsError} from '../../errors.js'
import {PolicyDocumentError, type PolicyKind, parsePolicyDocument} from '../../policy/document.js'
import {ACCOUNT_ID} from '../../types.js'
import {deleteConflict, invalidInput, limitExceeded, malformedPolicy, noSuchEntity} from './errors.js'
import {checkName, checkPath, isoNow, type ManagedPolicyRecord, newUniqueId, type PolicyHolder, type TagRecord} from './model.js'
import type {IamState} from './state.js'
import {boundaryUsageCount, checkTags, tagsView} from './tags.js'

export type HolderKind = 'user' | 'group' | 'role'

/** Checks a document as IAM does before storing it; returns it unchanged (IAM keeps the caller's text). */
export function checkDocument(text: string, kind: PolicyKind = 'identity'): string {
  if (text.length > 131_072) throw limitExceeded('Cannot exceed quota for PolicySize: 131072')
  try {
    parsePolicyDocument(text, kind)
  } catch (error) {
    if (error instanceof PolicyDocumentError) throw malformedPolicy(error.message)
    throw error
  }
  return text
}

function holder(state: IamState, kind: HolderKind, name: string): PolicyHolder {
  return kind === 'user' ? state.user(name) : kind === 'group' ? state.group(name) : state.role(name)
}

export function putInlinePolicy(state: IamState, kind: HolderKind, input: {name: string; PolicyName: string; PolicyDocument: string}) {
  const policyName = checkName('policyName', input.PolicyName, 128)
  const target = holder(state, kind, input.name)
  const document = checkDocument(input.PolicyDocument)
  target.InlinePolicies[policyName] = document
}

function inlinePolicyName(target: PolicyHolder, policyName: string, kind: HolderKind): string {
  if (!Object.hasOwn(target.InlinePolicies, policyName)) throw noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`)
  return policyName
}

export function getInlinePolicy(state: IamState, kind: HolderKind, input: {name: string; PolicyName: string}) {
  const target = holder(state, kind, input.name)
  const policyName = inlinePolicyName(target, input.PolicyName, kind)
  return {policyName, document: target.InlinePolicies[policyName]!}
}

export function listInlinePolicies(state: IamState, kind: HolderKind, input: {name: string}) {
  return Object.keys(holder(state, kind, input.name).InlinePolicies).sort()
}

export function deleteInlinePolicy(state: IamState, kind: HolderKind, input: {name: string; PolicyName: string}) {
  const target = holder(state, kind, input.name)
  delete target.InlinePolicies[inlinePolicyName(target, input.PolicyName, kind)]
}

export function policyView(state: IamState, policy: ManagedPolicyRecord, withDescription = false) {
  return {
    PolicyName: policy.PolicyName,
    PolicyId: policy.PolicyId,
    Arn: policy.Arn,
    Path: policy.Path,
    DefaultVersionId: policy.DefaultVersionId,
    AttachmentCount: state.attachmentCount(policy.Arn),
    PermissionsBoundaryUsageCount: boundaryUsageCount(state, policy.Arn),
    IsAttachable: true,
    ...(withDescription && policy.Description !== undefined ? {Description: policy.Description} : {}),
    CreateDate: policy.CreateDate,
    UpdateDate: policy.UpdateDate,
    ...(withDescription ? tagsView(policy.Tags) : {}),
  }
}

export function createPolicy(
  state: IamState,
  input: {PolicyName: string; PolicyDocument: string; Path?: string; Description?: string; Tags?: TagRecord[]},
) {
  const name = checkName('policyName', input.PolicyName, 128)
  const path = checkPath(input.Path)
  const tags = checkTags(input.Tags ?? [])
  const arn = state.arn('policy', path, name)
  const clash = Object.values(state.data.policies).find(
    (policy) => policy.PolicyName.toLowerCase() === name.toLowerCase() && policy.Path === path,
  )
  if (clash) throw entityExistsPolicy(name)
  const document = checkDocument(input.PolicyDocument)
  const now = isoNow(state.now())
  const policy: ManagedPolicyRecord = {
    PolicyName: name,
    PolicyId: newUniqueId('ANPA'),
    Arn: arn,
    Path: path,
    Description: input.Description,
    CreateDate: now,
    UpdateDate: now,
    DefaultVersionId: 'v1',
    Versions: [{VersionId: 'v1', Document: document, CreateDate: now}],
    NextVersion: 2,
    ...(tags.length > 0 ? {Tags: tags} : {}),
  }
  state.data.policies[arn] = policy
  // CreatePolicy answers with the tags it was given but without the description, as AWS does.
  return {Policy: {...policyView(state, policy), ...tagsView(policy.Tags)}}
}

const entityExistsPolicy = (name: string) =>
  new AwsError('EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`, 409)

export function getPolicy(state: IamState, input: {PolicyArn: string}) {
  return {Policy: policyView(state, state.policy(input.PolicyArn), true)}
}

export function listPolicies(state: IamState, input: {Scope?: string; OnlyAttached?: boolean; PathPrefix?: string}) {
  const scope = input.Scope ?? 'All'
  if (!['All', 'AWS', 'Local'].includes(scope)) throw invalidInput(`Scope must be one of All, AWS, Local; got ${scope}.`)
  const local = Object.values(state.data.policies)
  const aws = awsManaged(state)
  const candidates = scope === 'Local' ? local : scope === 'AWS' ? aws : [...aws, ...local]
  return candidates
    .filter((policy) => policy.Path.startsWith(input.PathPrefix ?? '/'))
    .filter((policy) => !input.OnlyAttached || state.attachmentCount(policy.Arn) > 0)
    .map((policy) => policyView(state, policy))
}

function awsManaged(state: IamState): ManagedPolicyRecord[] {
  return ['AmazonSSMManagedInstanceCore', 'service-role/AWSLambdaBasicExecutionRole', 'AmazonS3ReadOnlyAccess'].flatMap((name) => {
    const policy = state.findPolicy(`arn:aws:iam::aws:policy/${name}`)
    return policy ? [policy] : []
  })
}

function customerPolicy(state: IamState, arn: string): ManagedPolicyRecord {
  const policy = state.policy(arn)
  // AWS managed policies belong to AWS: callers may read and attach them, never change them.
  if (!arn.startsWith(`arn:aws:iam::${ACCOUNT_ID}:`))
    throw new AwsError('UnmodifiableEntity', `Policy ${arn} is an AWS managed policy and cannot be modified.`, 400)
  return policy
}

export function deletePolicy(state: IamState, input: {PolicyArn: string}) {
  const policy = customerPolicy(state, input.PolicyArn)
  if (state.attachmentCount(policy.Arn) > 0) throw deleteConflict('detach all policies')
  if (boundaryUsageCount(state, policy.Arn) > 0) throw deleteConflict('remove the policy as a permissions boundary of every user and role')
  if (policy.Versions.length > 1) throw deleteConflict('delete all non-default policy versions')
  delete state.data.policies[policy.Arn]
}

/** IAM keeps at most five versions of a managed policy. */
const MAX_POLICY_VERSIONS = 5

export function createPolicyVersion(state: IamState, input: {PolicyArn: string; PolicyDocument: string; SetAsDefault?: boolean}) {
  const policy = customerPolicy(state, input.PolicyArn)
  if (policy.Versions.length >= MAX_POLICY_VERSIONS) throw limitExceeded(`A managed policy can have up to ${MAX_POLICY_VERSIONS} versions.`)
  const document = checkDocument(input.PolicyDocument)
  const now = isoNow(state.now())
  const version = {VersionId: `v${policy.NextVersion}`, Document: document, CreateDate: now}
  policy.NextVersion++
  policy.Versions.push(version)
  if (input.SetAsDefault) {
    policy.DefaultVersionId = version.VersionId
    policy.UpdateDate = now
  }
  return {PolicyVersion: {VersionId: version.VersionId, IsDefaultVersion: policy.DefaultVersionId === version.VersionId, CreateDate: now}}
}

function versionOf(policy: ManagedPolicyRecord, versionId: string) {
  const version = policy.Versions.find((candidate) => candidate.VersionId === versionId)
  if (!version) throw noSuchEntity(`Policy ${policy.Arn} version ${versionId} does not exist or is not attachable.`)
  return version
}

export function getPolicyVersion(state: IamState, input: {PolicyArn: string; VersionId: string}) {
  const policy = state.policy(input.PolicyArn)
  const version = versionOf(policy, input.VersionId)
  return {
    document: version.Document,
    VersionId: version.VersionId,
    IsDefaultVersion: policy.DefaultVersionId === version.VersionId,
    CreateDate: version.CreateDate,
  }
}

export function listPolicyVersions(state: IamState, input: {PolicyArn: string}) {
  const policy = state.policy(input.PolicyArn)
  return [...policy.Versions].reverse().map((version) => ({
    VersionId: version.VersionId,
    IsDefaultVersion: policy.DefaultVersionId === version.VersionId,
    CreateDate: version.CreateDate,
  }))
}

export function deletePolicyVersion(state: IamState, input: {PolicyArn: string; VersionId: string}) {
  const policy = customerPolicy(state, input.PolicyArn)
  const version = versionOf(policy, input.VersionId)
  if (version.VersionId === policy.DefaultVersionId)
    throw deleteConflict('set another version as the default before deleting this one; that is, delete a non-default version')
  policy.Versions = policy.Versions.filter((candidate) => candidate !== version)
}

export function attachPolicy(state: IamState, kind: HolderKind, input: {name: string; PolicyArn: string}) {
  const target = holder(state, kind, input.name)
  const policy = state.policy(input.PolicyArn)
  if (!target.AttachedPolicyArns.includes(policy.Arn)) target.AttachedPolicyArns.push(policy.Arn)
}

export function detachPolicy(state: IamState, kind: HolderKind, input: {name: string; PolicyArn: string}) {
  const target = holder(state, kind, input.name)
  if (!target.AttachedPolicyArns.includes(input.PolicyArn)) throw noSuchEntity(`Policy ${input.PolicyArn} was not found.`)
  target.AttachedPolicyArns = target.AttachedPolicyArns.filter((arn) => arn !== input.PolicyArn)
}

export function listAttachedPolicies(state: IamState, kind: HolderKind, input: {name: string; PathPrefix?: string}) {
  return holder(state, kind, input.name).AttachedPolicyArns.flatMap((arn) => {
    const policy = state.findPolicy(arn)
    return policy?.Path.startsWith(input.PathPrefix ?? '/') ? [{PolicyName: policy.PolicyName, PolicyArn: policy.Arn}] : []
  })
}

/** No account password policy is ever set in the emulator, so this answers as AWS does for a fresh account. */
export function getAccountPasswordPolicy(): never {
  throw noSuchEntity(`The Password Policy with domain name ${ACCOUNT_ID} cannot be found.`)
}
