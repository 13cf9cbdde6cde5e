/**
 * `ncap cleanup`: what a pipeline's jobs leave behind, found by the pipeline's
 * own names and tags and removed only when nothing uses it.
 *
 *  - rule: a job monitoring rule of this pipeline (its name starts with the
 *    pipeline's job rule prefix) with no target, whose job has end.txt, or whose
 *    instances (the rule's event pattern, the job's tags) are all terminated,
 *    stopped or gone. A rule some AWS service manages (ManagedBy) is never touched.
 *  - volume: an available volume tagged with this pipeline's job tags, or one
 *    attached only to stopped job instances of this pipeline.
 *  - security group: a launch-wizard-* group, or one ncap made for this pipeline
 *    (its description or pipeline tag), that no network interface uses and no
 *    rule of a group that stays references; never a resource of the live stack.
 *
 * A dry run unless `yes`; deletion goes in dependency order: a rule's targets
 * before the rule, a detach before the volume, the rules of stray groups that
 * reference other stray groups before those groups. Every Describe/List pages.
 */
import type {CloudFormationClient} from '@aws-sdk/client-cloudformation'
import type {EC2Client, Instance, IpPermission, SecurityGroup, Volume} from '@aws-sdk/client-ec2'
import type {EventBridgeClient, Rule} from '@aws-sdk/client-eventbridge'
import type {S3Client} from '@aws-sdk/client-s3'
import {END_FILE, JOB_LOGS, JOB_PREFIX, JOB_RECORD_FILE, PROCESS_RESULTS} from '../../lambda_repo/lib/layout.js'
import {createClient} from '../cloud/client.js'
import type {Target} from '../cloud/target.js'
import type {Pipeline} from '../config/model.js'
import {UsageError} from '../errors.js'
import {jobRulePrefix} from '../template/names.js'

export type CleanupKind = 'rule' | 'volume' | 'security-group'

export interface CleanupItem {
  kind: CleanupKind
  id: string
  name?: string
  reason: string
}

export interface DeletedItem extends CleanupItem {
  /** What was done, in order (e.g. "removed 1 target", "deleted"). */
  steps: string[]
}

export interface FailedItem extends CleanupItem {
  error: string
}

export interface CleanupResult {
  pipeline: string
  dryRun: boolean
  kinds: CleanupKind[]
  olderThan?: string
  /** Every stray found (old enough when --older-than is given). */
  candidates: CleanupItem[]
  /** What --yes removed. */
  deleted: DeletedItem[]
  /** This pipeline's (or a launch wizard's) resources left alone, with why. */
  kept: CleanupItem[]
  /** Candidates whose deletion the target refused. */
  failed: FailedItem[]
}

export interface CleanupScope {
  pipeline: Pipeline
  bucket: string
  stackName: string
  target: Target
  s3: S3Client
}

export interface CleanupOptions {
  rules?: boolean
  volumes?: boolean
  securityGroups?: boolean
  /** Keep candidates younger than this (e.g. "2h", "30m", "7d", "1h30m"). */
  olderThan?: string
  yes?: boolean
  /** Defaults to the current time. */
  now?: Date
  /** One line per deletion as it happens. */
  progress?: (line: string) => void
  /** How long to wait for a detaching volume (default 120 s). */
  detachTimeoutMs?: number
  /** Items per Describe/List page (default the services' maximum; EC2's floor is 5). */
  pageSize?: number
}

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** A duration such as 30m, 2h, 7d, 1h30m or 90s, in milliseconds; undefined when it is not one. */
export function parseAge(text: string): number | undefined {
  const trimmed = text.trim()
  const parts = trimmed.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g)
  if (!parts || parts.join('') !== trimmed) return undefined
  let total = 0
  for (const part of parts) {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(part)!
    total += Number(amount) * UNIT_MS[unit!]!
  }
  return total
}

/**
 * The target's time: ages come from its timestamps (LaunchTime, CreateTime), so
 * on ncap's emulator, whose clock can run ahead of the host's, its clock is read;
 * any other target (AWS, moto, LocalStack) keeps the host's.
 */
async function targetNow(target: Target): Promise<number> {
  if (target.kind === 'aws' || !target.endpoint) return Date.now()
  try {
    const {callControl} = await import('../emulator/services/ncap/client.js')
    const answer = await callControl<{Now?: string}>(target.endpoint, 'GetClock', {}, 5000)
    const ms = answer.Now ? new Date(answer.Now).getTime() : Number.NaN
    return Number.isNaN(ms) ? Date.now() : ms
  } catch {
    return Date.now()
  }
}

function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)}h`
  return `${Math.round(ms / 86_400_000)}d`
}

const errorText = (error: unknown): string => {
  const e = error as Error & {name?: string}
  return e?.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : String(e?.message ?? error)
}

type Tags = Record<string, string>
const tagMap = (tags: {Key?: string; Value?: string}[] | undefined): Tags =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']))

interface Clients {
  ec2: EC2Client
  events: EventBridgeClient
  cfn: CloudFormationClient
  s3: S3Client
}

/** A candidate with what its deletion needs. */
interface Plan {
  item: CleanupItem
  /** When it was made, if known. */
  createdMs?: number
  remove: () => Promise<string[]>
}

export async function cleanup(scope: CleanupScope, options: CleanupOptions = {}): Promise<CleanupResult> {
  const any = options.rules || options.volumes || options.securityGroups
  const kinds: CleanupKind[] = []
  if (!any || options.rules) kinds.push('rule')
  if (!any || options.volumes) kinds.push('volume')
  if (!any || options.securityGroups) kinds.push('security-group')
  let olderThanMs: number | undefined
  if (options.olderThan !== undefined) {
    olderThanMs = parseAge(options.olderThan)
    if (olderThanMs === undefined)
      throw new UsageError(`--older-than "${options.olderThan}" is not a duration: use e.g. 30m, 2h, 7d or 1h30m.`)
  }
  const now = options.now?.getTime() ?? (olderThanMs !== undefined ? await targetNow(scope.target) : Date.now())
  const [{EC2Client}, {EventBridgeClient}, {CloudFormationClient}] = await Promise.all([
    import('@aws-sdk/client-ec2'),
    import('@aws-sdk/client-eventbridge'),
    import('@aws-sdk/client-cloudformation'),
  ])
  const clients: Clients = {
    ec2: createClient(EC2Client, scope.target),
    events: createClient(EventBridgeClient, scope.target),
    cfn: createClient(CloudFormationClient, scope.target),
    s3: scope.s3,
  }
  const finder = new Finder(scope, clients, options.detachTimeoutMs ?? 120_000, options.pageSize, olderThanMs !== undefined)
  const plans: Plan[] = []
  const kept: CleanupItem[] = []
  const instances = kinds.includes('rule') || kinds.includes('volume') ? await finder.pipelineInstances() : new Map()
  if (kinds.includes('rule')) await finder.rules(instances, plans, kept)
  if (kinds.includes('volume')) await finder.volumes(instances, plans, kept)
  if (kinds.includes('security-group')) await finder.groups(plans, kept)

  const chosen: Plan[] = []
  for (const plan of plans) {
    if (olderThanMs !== undefined) {
      if (plan.createdMs === undefined) {
        kept.push({...plan.item, reason: `${plan.item.reason}; but its age is unknown, so --older-than keeps it`})
        continue
      }
      const age = now - plan.createdMs
      if (age < olderThanMs) {
        kept.push({...plan.item, reason: `${plan.item.reason}; but it is ${formatAge(age)} old, younger than ${options.olderThan}`})
        continue
      }
    }
    chosen.push(plan)
  }
  const result: CleanupResult = {
    pipeline: scope.pipeline.name,
    dryRun: !options.yes,
    kinds,
    ...(options.olderThan !== undefined ? {olderThan: options.olderThan} : {}),
    candidates: chosen.map((p) => p.item),
    deleted: [],
    kept,
    failed: [],
  }
  if (!options.yes) return result
  // Dependency order: rules (targets first), volumes (detach first), then groups (referencing rules first).
  const order: CleanupKind[] = ['rule', 'volume', 'security-group']
  const sorted = [...chosen].sort((a, b) => order.indexOf(a.item.kind) - order.indexOf(b.item.kind))
  const groupIds = new Set(sorted.filter((p) => p.item.kind === 'security-group').map((p) => p.item.id))
  const unlinkFailed = groupIds.size > 0 ? await finder.unlinkGroups(groupIds) : new Map<string, string>()
  // Kind by kind (rules, volumes, groups), a few at a time within a kind.
  for (const kind of order) {
    await eachLimited(
      sorted.filter((p) => p.item.kind === kind),
      8,
      async (plan) => {
        const label = `${plan.item.kind} ${plan.item.id}${plan.item.name && plan.item.name !== plan.item.id ? ` (${plan.item.name})` : ''}`
        const refused = unlinkFailed.get(plan.item.id)
        if (refused) {
          result.failed.push({...plan.item, error: refused})
          options.progress?.(`could not delete ${label}: ${refused}`)
          return
        }
        try {
          const steps = [...(finder.preSteps.get(plan.item.id) ?? []), ...(await plan.remove())]
          result.deleted.push({...plan.item, steps})
          options.progress?.(`deleted ${label}: ${steps.join(', ')}`)
        } catch (error) {
          result.failed.push({...plan.item, error: errorText(error)})
          options.progress?.(`could not delete ${label}: ${errorText(error)}`)
        }
      },
    )
  }
  result.deleted.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.id.localeCompare(b.id))
  result.failed.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.id.localeCompare(b.id))
  return result
}

interface InstanceView {
  id: string
  state: string
  tags: Tags
  launchMs?: number
  volumeIds: string[]
}

const viewOf = (i: Instance): InstanceView => ({
  id: i.InstanceId ?? '',
  state: i.State?.Name ?? 'unknown',
  tags: tagMap(i.Tags),
  ...(i.LaunchTime ? {launchMs: new Date(i.LaunchTime).getTime()} : {}),
  volumeIds: (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId).filter((v): v is string => Boolean(v)),
})

/** `YYYYMMDD-HHMMSS…`, the timestamp ncap submit writes, as epoch ms. */
function stampMs(stamp: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})-?(\d{2})(\d{2})(\d{2})/.exec(stamp)
  if (!m) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return Number.isNaN(ms) ? undefined : ms
}

/** The instance ids a job rule's event pattern matches (`detail.instance-id`). */
function patternInstances(pattern: string | undefined): string[] {
  if (!pattern) return []
  try {
    const ids = (JSON.parse(pattern) as {detail?: {'instance-id'?: unknown}}).detail?.['instance-id']
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}

/** Runs `work` on every item, at most `limit` at a time (many rules must not become a burst of calls AWS throttles). */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}

const ENDED = new Set(['terminated', 'stopped', 'shutting-down'])

class Finder {
  readonly preSteps = new Map<string, string[]>()
  private groupsCache?: SecurityGroup[]

  constructor(
    private scope: CleanupScope,
    private c: Clients,
    private detachTimeoutMs: number,
    private pageSize?: number,
    /** Whether candidates' ages are wanted (--older-than): some cost a read. */
    readonly needAge = false,
  ) {}

  /** A page size within [floor, max]. */
  private limit(floor: number, max: number): number {
    return Math.min(max, Math.max(floor, this.pageSize ?? max))
  }

  private get name(): string {
    return this.scope.pipeline.name
  }

  private isJobTagged(tags: Tags): boolean {
    return tags.pipeline === this.name && (tags.job ?? '') !== ''
  }

  private async describeInstances(filters: {Name: string; Values: string[]}[]): Promise<Instance[]> {
    const {DescribeInstancesCommand} = await import('@aws-sdk/client-ec2')
    const out: Instance[] = []
    let token: string | undefined
    do {
      const page = await this.c.ec2.send(
        new DescribeInstancesCommand({Filters: filters, MaxResults: this.limit(5, 1000), NextToken: token}),
      )
      for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []))
      token = page.NextToken
    } while (token)
    return out
  }

  /** The instances tagged with this pipeline, by id. */
  async pipelineInstances(): Promise<Map<string, InstanceView>> {
    const all = await this.describeInstances([{Name: 'tag:pipeline', Values: [this.name]}])
    return new Map(all.map((i) => [i.InstanceId ?? '', viewOf(i)]))
  }

  private async instancesById(ids: string[], known: Map<string, InstanceView>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !known.has(id))
    for (let i = 0; i < missing.length; i += 200) {
      const found = await this.describeInstances([{Name: 'instance-id', Values: missing.slice(i, i + 200)}])
      for (const instance of found) known.set(instance.InstanceId ?? '', viewOf(instance))
    }
  }

  private async exists(key: string): Promise<boolean> {
    const {HeadObjectCommand} = await import('@aws-sdk/client-s3')
    try {
      await this.c.s3.send(new HeadObjectCommand({Bucket: this.scope.bucket, Key: key}))
      return true
    } catch {
      return false
    }
  }

  private async jobCreated(group: string, jobId: string): Promise<number | undefined> {
    const {GetObjectCommand} = await import('@aws-sdk/client-s3')
    try {
      const out = await this.c.s3.send(
        new GetObjectCommand({
          Bucket: this.scope.bucket,
          Key: `${group}/${this.scope.pipeline.instance.outDir}/${jobId}/${JOB_LOGS}/${JOB_RECORD_FILE}`,
        }),
      )
      const record = JSON.parse(await out.Body!.transformToString()) as {created?: string}
      const ms = record.created ? new Date(record.created).getTime() : Number.NaN
      return Number.isNaN(ms) ? undefined : ms
    } catch {
      return undefined
    }
  }

  async rules(instances: Map<string, InstanceView>, plans: Plan[], kept: CleanupItem[]): Promise<void> {
    const {ListRulesCommand} = await import('@aws-sdk/client-eventbridge')
    const prefix = `${jobRulePrefix(this.scope.bucket)}_`
    const rules: Rule[] = []
    let token: string | undefined
    do {
      const page = await this.c.events.send(new ListRulesCommand({NamePrefix: prefix, Limit: this.limit(1, 100), NextToken: token}))
      rules.push(...(page.Rules ?? []))
      token = page.NextToken
    } while (token)
    const jobHead = `${JOB_PREFIX}${this.scope.bucket}_`
    const ours = rules.filter((r) => r.Name?.startsWith(prefix))
    // One Describe for every instance the rules name, not one per rule.
    await this.instancesById(
      ours.flatMap((r) => patternInstances(r.EventPattern)),
      instances,
    )
    await eachLimited(ours, 8, async (rule) => {
      const name = rule.Name!
      const base = {kind: 'rule' as const, id: name, name}
      if (rule.ManagedBy) {
        kept.push({...base, reason: `managed by ${rule.ManagedBy}: only that service may change it`})
        return
      }
      const described = /^ncap job (\S+?):/.exec(rule.Description ?? '')?.[1]
      if (described !== undefined && !described.startsWith(jobHead)) return // another pipeline's job
      const stamp = name.slice(prefix.length)
      const jobId = described ?? `${jobHead}${stamp}`
      const targets = await this.targetIds(name)
      const fromPattern = patternInstances(rule.EventPattern)
      const jobInstances = new Map<string, InstanceView | undefined>()
      for (const id of fromPattern) jobInstances.set(id, instances.get(id))
      for (const view of instances.values()) if (view.tags.job === jobId) jobInstances.set(view.id, view)
      const views = [...jobInstances.values()].filter((v): v is InstanceView => v !== undefined)
      if (views.some((v) => v.tags.pipeline !== undefined && v.tags.pipeline !== this.name)) return
      const groups = [...new Set(views.map((v) => v.tags.group).filter((g): g is string => Boolean(g)))]
      const searchGroups = groups.length > 0 ? groups : this.scope.pipeline.groups.map((g) => g.name)
      // S3 only when needed: end.txt when nothing else made the rule stray, the job record when no cheaper age is known.
      const endKey = async (): Promise<string | undefined> => {
        for (const group of searchGroups) {
          const key = `${group}/${this.scope.pipeline.instance.outDir}/${jobId}/${PROCESS_RESULTS}/${END_FILE}`
          if (await this.exists(key)) return key
        }
        return undefined
      }
      let reason: string | undefined
      const live = [...jobInstances].filter(([, v]) => v !== undefined && !ENDED.has(v.state))
      if (targets.length === 0) reason = 'the rule has no target'
      else if (jobInstances.size > 0 && live.length === 0) {
        const states = [...jobInstances].map(([id, v]) => `${id} ${v ? v.state : 'gone'}`)
        reason = `every instance of job ${jobId} is terminated, stopped or gone: ${states.join(', ')}`
      } else {
        const ended = await endKey()
        if (ended)
          reason = `job ${jobId} has finished (${ended} exists)${live.length > 0 ? `; instance ${live.map(([id, v]) => `${id} is ${v!.state}`).join(', ')}` : ''}`
        else if (jobInstances.size === 0) reason = `no instance of job ${jobId} is known (the rule's pattern names none and none is tagged)`
        else {
          kept.push({...base, reason: `in use: instance ${live.map(([id, v]) => `${id} is ${v!.state}`).join(', ')}`})
          return
        }
      }
      let created: number | undefined
      if (this.needAge) {
        created = stampMs(stamp)
        for (const group of searchGroups) created ??= await this.jobCreated(group, jobId)
        const launched = Math.min(...views.map((v) => v.launchMs ?? Number.POSITIVE_INFINITY))
        if (created === undefined && Number.isFinite(launched)) created = launched
      }
      plans.push({
        item: {...base, reason},
        ...(created !== undefined ? {createdMs: created} : {}),
        remove: () => this.removeRule(name),
      })
    })
    plans.sort((a, b) => a.item.id.localeCompare(b.item.id))
  }

  private async targetIds(rule: string): Promise<string[]> {
    const {ListTargetsByRuleCommand} = await import('@aws-sdk/client-eventbridge')
    const ids: string[] = []
    let token: string | undefined
    do {
      const page = await this.c.events.send(new ListTargetsByRuleCommand({Rule: rule, Limit: this.limit(1, 100), NextToken: token}))
      for (const t of page.Targets ?? []) if (t.Id) ids.push(t.Id)
      token = page.NextToken
    } while (token)
    return ids
  }

  private async removeRule(name: string): Promise<string[]> {
    const {RemoveTargetsCommand, DeleteRuleCommand} = await import('@aws-sdk/client-eventbridge')
    const steps: string[] = []
    // Listed again at deletion time: a target added since the dry run must go first too.
    const ids = await this.targetIds(name)
    for (let i = 0; i < ids.length; i += 100) {
      const out = await this.c.events.send(new RemoveTargetsCommand({Rule: name, Ids: ids.slice(i, i + 100)}))
      if ((out.FailedEntryCount ?? 0) > 0) {
        const first = out.FailedEntries?.[0]
        throw new Error(`could not remove target ${first?.TargetId}: ${first?.ErrorCode} ${first?.ErrorMessage}`)
      }
    }
    if (ids.length > 0) steps.push(`removed ${ids.length} target(s): ${ids.join(', ')}`)
    await this.c.events.send(new DeleteRuleCommand({Name: name}))
    steps.push('deleted the rule')
    return steps
  }

  private async describeVolumes(filters: {Name: string; Values: string[]}[]): Promise<Volume[]> {
    const {DescribeVolumesCommand} = await import('@aws-sdk/client-ec2')
    const out: Volume[] = []
    let token: string | undefined
    do {
      const page = await this.c.ec2.send(new DescribeVolumesCommand({Filters: filters, MaxResults: this.limit(5, 500), NextToken: token}))
      out.push(...(page.Volumes ?? []))
      token = page.NextToken
    } while (token)
    return out
  }

  async volumes(instances: Map<string, InstanceView>, plans: Plan[], kept: CleanupItem[]): Promise<void> {
    const byId = new Map<string, Volume>()
    for (const v of await this.describeVolumes([{Name: 'tag:pipeline', Values: [this.name]}])) byId.set(v.VolumeId!, v)
    // Untagged volumes attached to a stopped job instance count too.
    const stopped = [...instances.values()].filter((v) => v.state === 'stopped' && this.isJobTagged(v.tags)).map((v) => v.id)
    for (let i = 0; i < stopped.length; i += 200) {
      for (const v of await this.describeVolumes([{Name: 'attachment.instance-id', Values: stopped.slice(i, i + 200)}]))
        byId.set(v.VolumeId!, v)
    }
    const attachedTo = [...byId.values()].flatMap((v) => (v.Attachments ?? []).map((a) => a.InstanceId ?? ''))
    await this.instancesById(attachedTo, instances)
    for (const volume of [...byId.values()].sort((a, b) => a.VolumeId!.localeCompare(b.VolumeId!))) {
      const id = volume.VolumeId!
      const tags = tagMap(volume.Tags)
      const base = {kind: 'volume' as const, id, ...(tags.Name ? {name: tags.Name} : {})}
      const createdMs = volume.CreateTime ? new Date(volume.CreateTime).getTime() : undefined
      const attachments = (volume.Attachments ?? []).filter((a) => a.State !== 'detached')
      const withCreated = createdMs !== undefined ? {createdMs} : {}
      if (attachments.length === 0) {
        if (volume.State !== 'available') {
          kept.push({...base, reason: `it is ${volume.State}`})
          continue
        }
        if (!this.isJobTagged(tags)) {
          kept.push({...base, reason: `tagged pipeline=${this.name} but with no job tag: not a job's volume`})
          continue
        }
        plans.push({
          item: {...base, reason: `available (attached to nothing) with the job tags of ${tags.job}`},
          ...withCreated,
          remove: () => this.removeVolume(id, []),
        })
        continue
      }
      const holders = attachments.map((a) => ({attachment: a, instance: instances.get(a.InstanceId ?? '')}))
      const busy = holders.filter(({instance}) => instance?.state !== 'stopped' || !this.isJobTagged(instance.tags))
      if (busy.length > 0) {
        kept.push({
          ...base,
          reason: `in use: attached to ${busy.map(({attachment, instance}) => `${attachment.InstanceId} (${instance ? instance.state : 'unknown'}${instance && !this.isJobTagged(instance.tags) ? ', not a job instance' : ''})`).join(', ')}`,
        })
        continue
      }
      plans.push({
        item: {
          ...base,
          reason: `attached to stopped job instance ${holders.map(({attachment, instance}) => `${attachment.InstanceId} of ${instance!.tags.job}`).join(', ')}`,
        },
        ...withCreated,
        remove: () =>
          this.removeVolume(
            id,
            holders.map(({attachment}) => attachment.InstanceId ?? ''),
          ),
      })
    }
  }

  private async removeVolume(id: string, attachedTo: string[]): Promise<string[]> {
    const {DetachVolumeCommand, DeleteVolumeCommand} = await import('@aws-sdk/client-ec2')
    const steps: string[] = []
    for (const instance of attachedTo) {
      await this.c.ec2.send(new DetachVolumeCommand({VolumeId: id, InstanceId: instance}))
      steps.push(`detached from ${instance}`)
    }
    if (attachedTo.length > 0) await this.waitAvailable(id)
    await this.c.ec2.send(new DeleteVolumeCommand({VolumeId: id}))
    steps.push('deleted the volume')
    return steps
  }

  private async waitAvailable(id: string): Promise<void> {
    const deadline = Date.now() + this.detachTimeoutMs
    let delay = this.scope.target.kind === 'aws' ? 2000 : 50
    for (;;) {
      const [volume] = await this.describeVolumes([{Name: 'volume-id', Values: [id]}])
      if (!volume || volume.State === 'available') return
      if (Date.now() > deadline) throw new Error(`volume ${id} is still ${volume.State} after detaching`)
      await new Promise((done) => setTimeout(done, delay))
      delay = Math.min(delay * 2, 5000)
    }
  }

  private async allGroups(): Promise<SecurityGroup[]> {
    if (this.groupsCache) return this.groupsCache
    const {DescribeSecurityGroupsCommand} = await import('@aws-sdk/client-ec2')
    const out: SecurityGroup[] = []
    let token: string | undefined
    do {
      const page = await this.c.ec2.send(new DescribeSecurityGroupsCommand({MaxResults: this.limit(5, 1000), NextToken: token}))
      out.push(...(page.SecurityGroups ?? []))
      token = page.NextToken
    } while (token)
    this.groupsCache = out
    return out
  }

  /** Group ids some network interface uses. */
  private async groupsInUse(): Promise<Map<string, string>> {
    const {DescribeNetworkInterfacesCommand} = await import('@aws-sdk/client-ec2')
    const used = new Map<string, string>()
    let token: string | undefined
    do {
      const page = await this.c.ec2.send(new DescribeNetworkInterfacesCommand({MaxResults: this.limit(5, 1000), NextToken: token}))
      for (const eni of page.NetworkInterfaces ?? []) {
        const who = eni.Attachment?.InstanceId ? `instance ${eni.Attachment.InstanceId}` : `network interface ${eni.NetworkInterfaceId}`
        for (const g of eni.Groups ?? []) if (g.GroupId && !used.has(g.GroupId)) used.set(g.GroupId, who)
      }
      token = page.NextToken
    } while (token)
    return used
  }

  /** Physical ids of the live stack's resources: never stray while the stack stands. */
  private async stackResources(): Promise<Set<string>> {
    const {ListStackResourcesCommand} = await import('@aws-sdk/client-cloudformation')
    const ids = new Set<string>()
    let token: string | undefined
    try {
      do {
        const page = await this.c.cfn.send(new ListStackResourcesCommand({StackName: this.scope.stackName, NextToken: token}))
        for (const r of page.StackResourceSummaries ?? []) if (r.PhysicalResourceId) ids.add(r.PhysicalResourceId)
        token = page.NextToken
      } while (token)
    } catch (error) {
      const e = error as Error & {name?: string; message?: string}
      // No such stack: nothing of it to protect.
      if (!(e.name === 'ValidationError' && /does not exist/.test(e.message ?? ''))) throw error
    }
    return ids
  }

  private groupOrigin(g: SecurityGroup): string | undefined {
    if (g.GroupName?.startsWith('launch-wizard-')) return 'a launch wizard group'
    if (g.Description?.startsWith(`ncap ${this.name} job instances`)) return `ncap's job instance group of ${this.name}`
    const tags = tagMap(g.Tags)
    if (tags.pipeline === this.name) return `tagged pipeline=${this.name}`
    return undefined
  }

  async groups(plans: Plan[], kept: CleanupItem[]): Promise<void> {
    const [groups, used, stack] = await Promise.all([this.allGroups(), this.groupsInUse(), this.stackResources()])
    const eligible = new Map<string, {group: SecurityGroup; origin: string}>()
    for (const g of groups) {
      const origin = this.groupOrigin(g)
      if (origin && g.GroupId && g.GroupName !== 'default') eligible.set(g.GroupId, {group: g, origin})
    }
    const referrers = new Map<string, Set<string>>()
    for (const g of groups)
      for (const p of [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])])
        for (const pair of p.UserIdGroupPairs ?? [])
          if (pair.GroupId && pair.GroupId !== g.GroupId) {
            if (!referrers.has(pair.GroupId)) referrers.set(pair.GroupId, new Set())
            referrers.get(pair.GroupId)!.add(g.GroupId!)
          }
    const keptWhy = new Map<string, string>()
    for (const [id, {group}] of eligible) {
      if (used.has(id)) keptWhy.set(id, `in use by ${used.get(id)}`)
      else if (stack.has(id) || stack.has(group.GroupName ?? ''))
        keptWhy.set(id, `a resource of the live stack ${this.scope.stackName} (ncap destroy removes it)`)
    }
    // A group referenced by one that stays, stays; repeat until nothing changes.
    let changed = true
    while (changed) {
      changed = false
      for (const id of eligible.keys()) {
        if (keptWhy.has(id)) continue
        const staying = [...(referrers.get(id) ?? [])].filter((r) => !eligible.has(r) || keptWhy.has(r))
        if (staying.length > 0) {
          keptWhy.set(id, `referenced by a rule of security group ${staying.join(', ')}`)
          changed = true
        }
      }
    }
    for (const [id, {group, origin}] of [...eligible].sort(([a], [b]) => a.localeCompare(b))) {
      const base = {kind: 'security-group' as const, id, name: group.GroupName ?? id}
      const why = keptWhy.get(id)
      if (why) {
        kept.push({...base, reason: why})
        continue
      }
      const by = [...(referrers.get(id) ?? [])]
      plans.push({
        item: {
          ...base,
          reason: `${origin} that no network interface uses and ${by.length > 0 ? `only stray groups (${by.join(', ')}) reference` : 'no other group references'}`,
        },
        remove: () => this.removeGroup(id),
      })
    }
  }

  /**
   * Revokes the rules of the stray groups that reference other stray groups, so
   * the referenced ones can go after; the steps done are kept for the report,
   * and a refusal is returned by group id.
   */
  async unlinkGroups(ids: Set<string>): Promise<Map<string, string>> {
    const {RevokeSecurityGroupIngressCommand, RevokeSecurityGroupEgressCommand} = await import('@aws-sdk/client-ec2')
    const failed = new Map<string, string>()
    for (const g of await this.allGroups()) {
      if (!g.GroupId || !ids.has(g.GroupId)) continue
      const pick = (perms: IpPermission[] | undefined): IpPermission[] =>
        (perms ?? []).flatMap((p) => {
          const pairs = (p.UserIdGroupPairs ?? []).filter((pair) => pair.GroupId && pair.GroupId !== g.GroupId && ids.has(pair.GroupId))
          if (pairs.length === 0) return []
          return [
            {
              IpProtocol: p.IpProtocol,
              ...(p.FromPort !== undefined ? {FromPort: p.FromPort} : {}),
              ...(p.ToPort !== undefined ? {ToPort: p.ToPort} : {}),
              UserIdGroupPairs: pairs.map((pair) => ({GroupId: pair.GroupId})),
            },
          ]
        })
      const ingress = pick(g.IpPermissions)
      const egress = pick(g.IpPermissionsEgress)
      const done: string[] = []
      try {
        if (ingress.length > 0) {
          await this.c.ec2.send(new RevokeSecurityGroupIngressCommand({GroupId: g.GroupId, IpPermissions: ingress}))
          done.push(`revoked its inbound rules referencing ${ingress.flatMap((p) => p.UserIdGroupPairs!.map((x) => x.GroupId)).join(', ')}`)
        }
        if (egress.length > 0) {
          await this.c.ec2.send(new RevokeSecurityGroupEgressCommand({GroupId: g.GroupId, IpPermissions: egress}))
          done.push(`revoked its outbound rules referencing ${egress.flatMap((p) => p.UserIdGroupPairs!.map((x) => x.GroupId)).join(', ')}`)
        }
      } catch (error) {
        failed.set(g.GroupId, `${done.length > 0 ? `${done.join(', ')}, then ` : ''}could not revoke its rules: ${errorText(error)}`)
      }
      if (done.length > 0) this.preSteps.set(g.GroupId, done)
    }
    return failed
  }

  private async removeGroup(id: string): Promise<string[]> {
    const {DeleteSecurityGroupCommand} = await import('@aws-sdk/client-ec2')
    await this.c.ec2.send(new DeleteSecurityGroupCommand({GroupId: id}))
    return ['deleted the group']
  }
}
