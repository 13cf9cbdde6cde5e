/**
 * CloudFormation's state: stacks with their template, parameters, resources,
 * events, outputs and change sets, and the account's exports. One JSON file
 * per stack under `${stateDir}/cloudformation/stacks/` (mode 0600: resource
 * attributes hold secrets such as an access key's SecretAccessKey), written
 * durably (temp + fsync + rename) and coalesced, so a stack survives a restart
 * and a SIGKILL leaves either its old or its new record.
 */
import {randomUUID} from 'node:crypto'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {writeJsonAtomic} from '../../../store/atomic.js'
import type {StackParameter} from './parameters.js'

export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'REVIEW_IN_PROGRESS'

export interface ResourceRecord {
  logicalId: string
  type: string
  physicalId?: string
  /** What Ref returns when it is not the physical id (a security group outside a VPC: its name). */
  ref?: string
  status: string
  statusReason?: string
  updated: number
  /** The properties as provisioned (intrinsics resolved, dynamic references not), to diff an update against. */
  properties: Record<string, unknown>
  attributes: Record<string, unknown>
  deletionPolicy?: string
  updateReplacePolicy?: string
  /** Custom resources whose function answered NoEcho: their Data is masked in outputs of DescribeStackResource. */
  noEcho?: boolean
}

export interface StackEvent {
  EventId: string
  StackId: string
  StackName: string
  LogicalResourceId: string
  PhysicalResourceId: string
  ResourceType: string
  Timestamp: number
  ResourceStatus: string
  ResourceStatusReason?: string
  ResourceProperties?: string
  ClientRequestToken?: string
}

export interface StackOutput {
  OutputKey: string
  OutputValue: string
  Description?: string
  ExportName?: string
}

export interface ChangeRecord {
  Action: 'Add' | 'Modify' | 'Remove'
  LogicalResourceId: string
  PhysicalResourceId?: string
  ResourceType: string
  Replacement?: 'True' | 'False' | 'Conditional'
  Scope: string[]
  Details: Record<string, unknown>[]
}

export interface ChangeSetRecord {
  id: string
  name: string
  type: 'CREATE' | 'UPDATE'
  status: 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'DELETE_COMPLETE' | 'FAILED'
  statusReason?: string
  executionStatus: 'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE'
  created: number
  description?: string
  templateBody: string
  parameters: StackParameter[]
  capabilities: string[]
  tags: {Key: string; Value: string}[]
  changes: ChangeRecord[]
  notificationARNs: string[]
  disableRollback?: boolean
}

export interface StackRecord {
  stackId: string
  stackName: string
  description?: string
  status: StackStatus
  statusReason?: string
  created: number
  updated?: number
  deleted?: number
  templateBody: string
  parameters: StackParameter[]
  capabilities: string[]
  tags: {Key: string; Value: string}[]
  notificationARNs: string[]
  disableRollback: boolean
  terminationProtection: boolean
  timeoutInMinutes?: number
  roleARN?: string
  outputs: StackOutput[]
  resources: Record<string, ResourceRecord>
  /** Newest last; DescribeStackEvents shows them newest first. */
  events: StackEvent[]
  changeSets: ChangeSetRecord[]
  parentId?: string
  rootId?: string
  /** The template and parameters before the update in progress, to roll back to. */
  previous?: {templateBody: string; parameters: StackParameter[]; outputs: StackOutput[]}
  /** Physical resources replaced during an update, deleted in its clean-up (or, on rollback, the new ones). */
  pendingCleanup?: ResourceRecord[]
  /** Export names this stack's template imports (Fn::ImportValue), for ListImports and delete checks. */
  imports?: string[]
  /** Where the last operation stood, so a restart can end it cleanly. */
  operation?: 'create' | 'update' | 'delete' | 'rollback' | 'update-rollback'
}

export const stackArn = (region: string, accountId: string, name: string, id = randomUUID()) =>
  `arn:aws:cloudformation:${region}:${accountId}:stack/${name}/${id}`
export const changeSetArn = (region: string, accountId: string, name: string, id = randomUUID()) =>
  `arn:aws:cloudformation:${region}:${accountId}:changeSet/${name}/${id}`

/**
 * How often a stack whose operation is under way is rewritten, at least: a kill loses at most this much
 * of its events. Large stacks (thousands of events, many nested stacks) take longer to write, so the
 * interval grows to WRITE_SHARE times the last round's writing time: rewriting never takes more than
 * about a tenth of the emulator's time.
 */
const WRITE_INTERVAL_MS = 200
const WRITE_SHARE = 10

export class CloudFormationState {
  readonly stacks = new Map<string, StackRecord>()
  private readonly dirty = new Set<string>()
  private writing: Promise<void> | undefined
  private readonly folder: string

  constructor(stateDir: string) {
    this.folder = join(stateDir, 'cloudformation', 'stacks')
  }

  static async open(stateDir: string): Promise<CloudFormationState> {
    const state = new CloudFormationState(stateDir)
    let names: string[] = []
    try {
      names = await readdir(state.folder)
    } catch {
      // No stacks yet.
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue
      try {
        const record = JSON.parse(await readFile(join(state.folder, name), 'utf8')) as StackRecord
        state.stacks.set(record.stackId, record)
      } catch {
        // A foreign or temp file: not a stack.
      }
    }
    return state
  }

  /** The live stack of this name, or any stack (deleted ones too) of this id. */
  find(nameOrId: string): StackRecord | undefined {
    if (nameOrId.startsWith('arn:')) return this.stacks.get(nameOrId)
    for (const stack of this.stacks.values()) if (stack.stackName === nameOrId && stack.status !== 'DELETE_COMPLETE') return stack
    return undefined
  }

  all(): StackRecord[] {
    return [...this.stacks.values()].sort((a, b) => a.created - b.created)
  }

  add(stack: StackRecord): void {
    this.stacks.set(stack.stackId, stack)
    this.touch(stack)
  }

  /** Marks a stack changed: written shortly after, together with others changed meanwhile. */
  touch(stack: StackRecord): void {
    this.dirty.add(stack.stackId)
    this.writing ??= this.writeDirty()
  }

  private async writeDirty(): Promise<void> {
    await new Promise((done) => setImmediate(done))
    let rounds = 0
    let lastRoundMs = 0
    while (this.dirty.size > 0) {
      // A stack under way changes with every event: past the first write, rewrite it at most every interval.
      if (rounds++ > 0) await new Promise((done) => setTimeout(done, Math.max(WRITE_INTERVAL_MS, WRITE_SHARE * lastRoundMs)))
      const started = performance.now()
      const ids = [...this.dirty]
      this.dirty.clear()
      await Promise.all(
        ids.map(async (id) => {
          const stack = this.stacks.get(id)
          if (!stack) return
          const file = join(this.folder, `${encodeURIComponent(stack.stackName)}-${id.split('/').pop()}.json`)
          await writeJsonAtomic(file, stack, {mode: 0o600})
        }),
      )
      lastRoundMs = performance.now() - started
    }
    this.writing = undefined
  }

  /** Resolves once every change so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing
  }

  /** Every export of the account in a region: name → the stack and value. */
  exports(): Map<string, {stackId: string; value: string}> {
    const out = new Map<string, {stackId: string; value: string}>()
    for (const stack of this.stacks.values()) {
      if (stack.status === 'DELETE_COMPLETE' || stack.status === 'CREATE_IN_PROGRESS' || stack.status === 'ROLLBACK_COMPLETE') continue
      for (const output of stack.outputs)
        if (output.ExportName) out.set(output.ExportName, {stackId: stack.stackId, value: output.OutputValue})
    }
    return out
  }

  /** The stacks whose templates import an export. */
  importers(exportName: string): StackRecord[] {
    return [...this.stacks.values()].filter(
      (stack) => stack.status !== 'DELETE_COMPLETE' && stack.status !== 'ROLLBACK_COMPLETE' && stack.imports?.includes(exportName) === true,
    )
  }
}
