/**
 * CloudFormation as a deploy drives it: change sets (created, waited for, read
 * as rows), execution with the stack's events followed live (nested stacks
 * included), deletion, outputs. Target-agnostic: the same calls reach the
 * embedded emulator, LocalStack, moto_server and AWS.
 */
import type {Change, CloudFormationClient, Output, Parameter, Stack, StackEvent} from '@aws-sdk/client-cloudformation'
import {NcapError} from '../errors.js'

type Cfn = typeof import('@aws-sdk/client-cloudformation')
let sdk: Cfn | undefined
const cfnSdk = async (): Promise<Cfn> => {
  sdk ??= await import('@aws-sdk/client-cloudformation')
  return sdk
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

/** In progress: anything ending _IN_PROGRESS (REVIEW_IN_PROGRESS is a stack with no template yet: not moving). */
export const isSettled = (status: string | undefined) => status !== undefined && !status.endsWith('_IN_PROGRESS')
export const isFailedStatus = (status: string | undefined) => status !== undefined && (/FAILED$/.test(status) || /ROLLBACK/.test(status))

export async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  const {DescribeStacksCommand} = await cfnSdk()
  try {
    const answer = await cfn.send(new DescribeStacksCommand({StackName: stackName}))
    const stack = answer.Stacks?.[0]
    return stack?.StackStatus === 'DELETE_COMPLETE' ? undefined : stack
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined
    throw error
  }
}

/** One row of a change set, as a person reads it. */
export interface ChangeRow {
  change: 'added' | 'modified' | 'replaced' | 'may be replaced' | 'removed' | 'imported' | 'dynamic'
  logicalId: string
  type: string
  physicalId?: string
  /** The properties whose change forces (or may force) a replacement, else the properties that change. */
  properties: string[]
  /** Nested change sets: the nested stack's logical id. */
  stack?: string
}

export function changeRows(changes: Change[], stack?: string): ChangeRow[] {
  const rows: ChangeRow[] = []
  for (const change of changes) {
    const rc = change.ResourceChange
    if (!rc) continue
    let kind: ChangeRow['change']
    switch (rc.Action) {
      case 'Add':
        kind = 'added'
        break
      case 'Remove':
        kind = 'removed'
        break
      case 'Import':
        kind = 'imported'
        break
      case 'Dynamic':
        kind = 'dynamic'
        break
      default:
        kind = rc.Replacement === 'True' ? 'replaced' : rc.Replacement === 'Conditional' ? 'may be replaced' : 'modified'
    }
    const details = rc.Details ?? []
    const forcing = details
      .filter(
        (d) =>
          d.Target?.Attribute === 'Properties' &&
          (d.Target.RequiresRecreation === 'Always' || d.Target.RequiresRecreation === 'Conditionally'),
      )
      .map((d) => d.Target!.Name!)
    const changed = details.filter((d) => d.Target?.Attribute === 'Properties' && d.Target.Name).map((d) => d.Target!.Name!)
    const properties = [...new Set(kind === 'replaced' || kind === 'may be replaced' ? forcing : changed)].sort()
    rows.push({
      change: kind,
      logicalId: rc.LogicalResourceId ?? '?',
      type: rc.ResourceType ?? '?',
      ...(rc.PhysicalResourceId ? {physicalId: rc.PhysicalResourceId} : {}),
      properties,
      ...(stack ? {stack} : {}),
    })
  }
  return rows
}

export interface ChangeSetRequest {
  stackName: string
  changeSetName: string
  type: 'CREATE' | 'UPDATE'
  templateBody?: string
  templateUrl?: string
  parameters: Parameter[]
  capabilities: string[]
  pollMs: number
}

export type ChangeSetResult =
  | {empty: false; id: string; stackId: string; rows: ChangeRow[]}
  | {empty: true; id: string; stackId: string; reason: string}

const NO_CHANGES = /didn't contain changes|No updates are to be performed/

/** Creates a change set and waits until CloudFormation has computed it. */
export async function createChangeSet(cfn: CloudFormationClient, request: ChangeSetRequest): Promise<ChangeSetResult> {
  const {CreateChangeSetCommand, DescribeChangeSetCommand} = await cfnSdk()
  const created = await cfn
    .send(
      new CreateChangeSetCommand({
        StackName: request.stackName,
        ChangeSetName: request.changeSetName,
        ChangeSetType: request.type,
        ...(request.templateUrl ? {TemplateURL: request.templateUrl} : {TemplateBody: request.templateBody}),
        Parameters: request.parameters,
        Capabilities: request.capabilities as never,
        Description: 'ncap deploy',
      }),
    )
    .catch((error: Error) => {
      // Some endpoints (moto) refuse an unchanged template at once instead of failing the change set.
      if (NO_CHANGES.test(error.message)) return undefined
      throw error
    })
  if (!created) return {empty: true, id: '', stackId: request.stackName, reason: 'No updates are to be performed.'}
  const id = created.Id!
  const stackId = created.StackId ?? request.stackName
  for (;;) {
    const described = await cfn.send(new DescribeChangeSetCommand({ChangeSetName: id, StackName: stackId}))
    const status = described.Status
    if (status === 'CREATE_COMPLETE') {
      const changes = [...(described.Changes ?? [])]
      let next = described.NextToken
      while (next) {
        const page = await cfn.send(new DescribeChangeSetCommand({ChangeSetName: id, StackName: stackId, NextToken: next}))
        changes.push(...(page.Changes ?? []))
        next = page.NextToken
      }
      return {empty: false, id, stackId, rows: changeRows(changes)}
    }
    if (status === 'FAILED') {
      const reason = described.StatusReason ?? 'no reason given'
      if (NO_CHANGES.test(reason)) return {empty: true, id, stackId, reason}
      throw new NcapError(`CloudFormation could not create the change set for ${request.stackName}: ${reason}`, {code: 'ChangeSetFailed'})
    }
    await sleep(request.pollMs)
  }
}

export async function deleteChangeSet(cfn: CloudFormationClient, stackId: string, id: string): Promise<void> {
  if (!id) return
  const {DeleteChangeSetCommand} = await cfnSdk()
  await cfn.send(new DeleteChangeSetCommand({ChangeSetName: id, StackName: stackId})).catch(() => undefined)
}

/** One stack event as ncap prints and returns it. */
export interface StackEventLine {
  time: string
  stack: string
  logicalId: string
  type: string
  status: string
  reason?: string
  physicalId?: string
}

function eventLine(event: StackEvent): StackEventLine {
  return {
    time: (event.Timestamp ?? new Date()).toISOString(),
    stack: event.StackName ?? '?',
    logicalId: event.LogicalResourceId ?? '?',
    type: event.ResourceType ?? '?',
    status: event.ResourceStatus ?? '?',
    ...(event.ResourceStatusReason ? {reason: event.ResourceStatusReason} : {}),
    ...(event.PhysicalResourceId ? {physicalId: event.PhysicalResourceId} : {}),
  }
}

export interface FollowOptions {
  pollMs: number
  /** Events before this instant are old (an earlier deploy's). */
  since: Date
  onEvent(line: StackEventLine): void
}

/**
 * Prints the events of a stack and of the nested stacks it creates, in order,
 * each once, until the stack settles; returns the final status and every event.
 */
export async function followStack(
  cfn: CloudFormationClient,
  stackId: string,
  options: FollowOptions,
): Promise<{status: string; events: StackEventLine[]; reason?: string}> {
  const {DescribeStackEventsCommand, DescribeStacksCommand} = await cfnSdk()
  const seen = new Set<string>()
  const stacks = new Set<string>([stackId])
  const all: StackEventLine[] = []
  const since = options.since.getTime() - 1000
  const poll = async () => {
    const fresh: StackEvent[] = []
    for (const id of stacks) {
      let next: string | undefined
      page: do {
        const answer = await cfn.send(new DescribeStackEventsCommand({StackName: id, NextToken: next})).catch((error: Error) => {
          if (/does not exist/.test(error.message)) return undefined
          throw error
        })
        if (!answer) break
        for (const event of answer.StackEvents ?? []) {
          if ((event.Timestamp?.getTime() ?? 0) < since) break page
          const key =
            event.EventId ?? `${event.StackId}/${event.LogicalResourceId}/${event.ResourceStatus}/${event.Timestamp?.toISOString()}`
          if (seen.has(key)) break page
          seen.add(key)
          fresh.push(event)
        }
        next = answer.NextToken
      } while (next)
    }
    fresh.sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0))
    for (const event of fresh) {
      if (event.ResourceType === 'AWS::CloudFormation::Stack' && event.PhysicalResourceId && event.PhysicalResourceId !== event.StackId) {
        stacks.add(event.PhysicalResourceId)
      }
      const line = eventLine(event)
      all.push(line)
      options.onEvent(line)
    }
  }
  for (;;) {
    await poll()
    const answer = await cfn.send(new DescribeStacksCommand({StackName: stackId})).catch((error: Error) => {
      // Some endpoints forget a deleted stack at once, even by its id.
      if (/does not exist/.test(error.message)) return {Stacks: [{StackStatus: 'DELETE_COMPLETE'}] as Stack[]}
      throw error
    })
    const stack = answer.Stacks?.[0]
    if (isSettled(stack?.StackStatus)) {
      await poll()
      return {status: stack!.StackStatus!, events: all, ...(stack?.StackStatusReason ? {reason: stack.StackStatusReason} : {})}
    }
    await sleep(options.pollMs)
  }
}

export async function executeChangeSet(cfn: CloudFormationClient, stackId: string, id: string): Promise<void> {
  const {ExecuteChangeSetCommand} = await cfnSdk()
  await cfn.send(new ExecuteChangeSetCommand({ChangeSetName: id, StackName: stackId}))
}

export async function deleteStack(cfn: CloudFormationClient, stackId: string): Promise<void> {
  const {DeleteStackCommand} = await cfnSdk()
  await cfn.send(new DeleteStackCommand({StackName: stackId}))
}

export function outputsOf(stack: Stack | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const o of (stack?.Outputs ?? []) as Output[]) if (o.OutputKey) out[o.OutputKey] = o.OutputValue ?? ''
  return out
}

/** The failures worth telling: each failed resource with its reason, in order. */
export function failures(events: StackEventLine[]): StackEventLine[] {
  return events.filter(
    (e) => /_FAILED$/.test(e.status) && e.reason && !/Resource creation cancelled|Resource update cancelled/.test(e.reason),
  )
}
