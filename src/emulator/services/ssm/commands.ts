/**
 * Run Command: SendCommand with AWS-RunShellScript really runs the commands,
 * as one bash script, inside each target instance (through EC2's internal exec,
 * which hands it to the instance's sandbox), as SSM's agent does.
 *
 * An invocation is not visible for its first moments (GetCommandInvocation
 * answers InvocationDoesNotExist until the agent picks it up, about
 * PICKUP_MS later), then goes Pending → InProgress → Success / Failed /
 * TimedOut / Cancelled, with the exit code and the first 24,000 characters of
 * stdout and 8,000 of stderr, kept on failure too. The whole output goes to S3
 * in AWS's layout (written with the instance role's rights) and to CloudWatch
 * Logs when asked. Timeouts run on the emulator clock. Every transition is
 * recorded (kind ssm.command) and published as AWS's "EC2 Command
 * Status-change Notification" and "EC2 Command Invocation Status-change
 * Notification" events (source aws.ssm).
 */
import {randomUUID} from 'node:crypto'
import type {ClockTimer} from '../../clock.js'
import {AwsError} from '../../errors.js'
import type {Ec2Internal, InstanceView, RunningExec} from '../../internal.js'
import {ACCOUNT_ID, type ServiceEnvironment} from '../../types.js'
import * as errors from './errors.js'

export type InvocationStatus = 'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Cancelled' | 'TimedOut' | 'Failed' | 'Cancelling'
export type CommandStatus = 'Pending' | 'InProgress' | 'Success' | 'Cancelled' | 'Failed' | 'TimedOut' | 'Cancelling'

export const PLUGIN = 'aws:runShellScript'
export const STDOUT_LIMIT = 24_000
export const STDERR_LIMIT = 8_000
/** ListCommandInvocations' plugin Output holds the first 2,500 characters, as the agent reports it. */
const PLUGIN_OUTPUT_LIMIT = 2_500
/** The whole output kept for S3 and CloudWatch, at most (a runaway command cannot fill the emulator's memory). */
const FULL_OUTPUT_LIMIT = 16 * 1024 * 1024
/** How long after SendCommand the agent picks an invocation up (InvocationDoesNotExist until then). */
export const PICKUP_MS = 40

export interface InvocationRecord {
  CommandId: string
  InstanceId: string
  InstanceName: string
  Status: InvocationStatus
  StatusDetails: string
  RequestedDateTime: number
  ResponseCode: number
  ExecutionStartDateTime?: number
  ExecutionEndDateTime?: number
  StandardOutputContent: string
  StandardErrorContent: string
  StandardOutputUrl: string
  StandardErrorUrl: string
  /** Visible to Get/ListCommandInvocations once the agent picked it up. */
  Visible: boolean
}

export interface CommandRecord {
  CommandId: string
  Region: string
  DocumentName: string
  DocumentVersion: string
  Comment: string
  ExpiresAfter: number
  Parameters: Record<string, string[]>
  InstanceIds: string[]
  Targets: {Key: string; Values: string[]}[]
  RequestedDateTime: number
  Status: CommandStatus
  StatusDetails: string
  OutputS3Region: string
  OutputS3BucketName: string
  OutputS3KeyPrefix: string
  MaxConcurrency: string
  MaxErrors: string
  TargetCount: number
  CompletedCount: number
  ErrorCount: number
  DeliveryTimedOutCount: number
  ServiceRole: string
  NotificationConfig: {NotificationArn: string; NotificationEvents: string[]; NotificationType?: string}
  CloudWatchOutputConfig: {CloudWatchLogGroupName: string; CloudWatchOutputEnabled: boolean}
  TimeoutSeconds: number
  Invocations: InvocationRecord[]
}

export interface SendInput {
  DocumentName: string
  DocumentVersion?: string
  InstanceIds?: string[]
  Targets?: {Key: string; Values: string[]}[]
  Parameters?: Record<string, string[]>
  Comment?: string
  TimeoutSeconds?: number
  OutputS3Region?: string
  OutputS3BucketName?: string
  OutputS3KeyPrefix?: string
  MaxConcurrency?: string
  MaxErrors?: string
  ServiceRoleArn?: string
  NotificationConfig?: {NotificationArn?: string; NotificationEvents?: string[]; NotificationType?: string}
  CloudWatchOutputConfig?: {CloudWatchLogGroupName?: string; CloudWatchOutputEnabled?: boolean}
}

export interface CommandHost {
  env: ServiceEnvironment
  /** Persists the state after a change (coalesced). */
  changed(): void
  /** Instances SSM can see as managed candidates (running sandboxes of this emulator). */
  candidates(): string[]
  /** Uploads one output file to S3 with the instance role's rights; resolves to an error message or undefined. */
  upload(region: string, instanceId: string, bucket: string, key: string, body: string): Promise<string | undefined>
}

const TERMINAL: InvocationStatus[] = ['Success', 'Cancelled', 'TimedOut', 'Failed']
const isTerminal = (status: string) => (TERMINAL as string[]).includes(status)

const arnOfInstance = (region: string, id: string) => `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/${id}`

interface Live {
  exec?: RunningExec
  timer?: ClockTimer
  pickup?: NodeJS.Timeout
  cancelled?: boolean
  timedOut?: boolean
  stdout: Buffer[]
  stderr: Buffer[]
  stdoutBytes: number
  stderrBytes: number
}

export class CommandEngine {
  private readonly live = new Map<string, Live>()

  constructor(
    readonly commands: CommandRecord[],
    private readonly host: CommandHost,
  ) {}

  private get env() {
    return this.host.env
  }

  find(commandId: string): CommandRecord | undefined {
    return this.commands.find((command) => command.CommandId === commandId)
  }

  /** The instances a SendCommand names, each checked to be a running managed instance. */
  private async resolveTargets(region: string, input: SendInput): Promise<string[]> {
    const ec2 = await this.env.internal('ec2').catch(() => undefined)
    const ids: string[] = []
    if (input.InstanceIds?.length) ids.push(...input.InstanceIds)
    for (const target of input.Targets ?? []) {
      if (target.Key === 'InstanceIds') {
        ids.push(...target.Values)
        continue
      }
      const tagKey = target.Key.startsWith('tag:') ? target.Key.slice(4) : undefined
      if (!tagKey && target.Key !== 'tag-key') {
        throw errors.invalidParameters(
          `The target key ${target.Key} is not supported by the emulator: use InstanceIds, tag:<key> or tag-key.`,
        )
      }
      for (const id of this.host.candidates()) {
        const view = ec2?.describeInstance(region, id)
        if (view?.state !== 'running') continue
        const matches = tagKey ? target.Values.includes(view.tags[tagKey] ?? '\u0000') : target.Values.some((key) => key in view.tags)
        if (matches && !ids.includes(id)) ids.push(id)
      }
    }
    if (ids.length === 0 && !input.Targets?.length) throw errors.validation('Either InstanceIds or Targets must be specified.')
    if (new Set(ids).size !== ids.length) throw errors.duplicateInstanceId('Instance Id is duplicated in the list of instance ids.')
    if (ids.length > 50) throw errors.validation('1 validation error detected: instanceIds must have length less than or equal to 50')
    const bad = ids.filter((id) => {
      const view: InstanceView | undefined = ec2?.describeInstance(region, id)
      return view?.state !== 'running' || !view.iamInstanceProfileArn
    })
    if (bad.length > 0) {
      throw errors.invalidInstanceId(`Instances [${bad.map((id) => `[${id}]`).join(', ')}] not in a valid state for account ${ACCOUNT_ID}`)
    }
    return ids
  }

  async send(region: string, input: SendInput): Promise<CommandRecord> {
    const document = input.DocumentName
    if (document !== 'AWS-RunShellScript' && !document.endsWith(':document/AWS-RunShellScript')) {
      throw errors.invalidDocument(
        `The ncap emulator runs only the AWS-RunShellScript document; ${document} is not served (on AWS it may exist: send its commands through AWS-RunShellScript).`,
      )
    }
    const parameters = input.Parameters ?? {}
    const commands = parameters.commands
    if (!Array.isArray(commands) || commands.length === 0) {
      throw errors.invalidParameters('Parameter "commands" is required by the document AWS-RunShellScript.')
    }
    for (const name of Object.keys(parameters)) {
      if (!['commands', 'workingDirectory', 'executionTimeout'].includes(name)) {
        throw errors.invalidParameters(`Parameter "${name}" is not defined in the document AWS-RunShellScript.`)
      }
    }
    const executionTimeout = parameters.executionTimeout?.[0] ?? '3600'
    if (!/^\d+$/.test(executionTimeout) || Number(executionTimeout) < 1 || Number(executionTimeout) > 172_800) {
      throw errors.invalidParameters(
        `Parameter "executionTimeout" has an invalid value ${executionTimeout}: a number of seconds from 1 to 172800.`,
      )
    }
    const timeoutSeconds = input.TimeoutSeconds ?? 3600
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
      throw errors.validation(
        `1 validation error detected: Value '${timeoutSeconds}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000`,
      )
    }
    if (input.OutputS3KeyPrefix && !input.OutputS3BucketName) {
      throw errors.invalidOutputFolder('OutputS3KeyPrefix needs OutputS3BucketName.')
    }
    const instanceIds = await this.resolveTargets(region, input)
    const now = this.env.clock.now()
    const commandId = randomUUID()
    const ec2 = await this.env.internal('ec2').catch(() => undefined)
    const bucket = input.OutputS3BucketName ?? ''
    const prefix = (input.OutputS3KeyPrefix ?? '').replace(/\/+$/, '')
    const urlOf = (instanceId: string, stream: 'stdout' | 'stderr') =>
      bucket ? `${this.env.endpoint}/${bucket}/${outputKey(prefix, commandId, instanceId, stream)}` : ''
    const command: CommandRecord = {
      CommandId: commandId,
      Region: region,
      DocumentName: 'AWS-RunShellScript',
      DocumentVersion: input.DocumentVersion ?? '$DEFAULT',
      Comment: input.Comment ?? '',
      ExpiresAfter: now + timeoutSeconds * 1000 + Number(executionTimeout) * 1000,
      Parameters: {
        commands,
        ...(parameters.workingDirectory ? {workingDirectory: parameters.workingDirectory} : {}),
        executionTimeout: [executionTimeout],
      },
      InstanceIds: input.Targets?.length ? [] : instanceIds,
      Targets: input.Targets ?? [],
      RequestedDateTime: now,
      Status: 'Pending',
      StatusDetails: 'Pending',
      OutputS3Region: input.OutputS3Region ?? region,
      OutputS3BucketName: bucket,
      OutputS3KeyPrefix: input.OutputS3KeyPrefix ?? '',
      MaxConcurrency: input.MaxConcurrency ?? '50',
      MaxErrors: input.MaxErrors ?? '0',
      TargetCount: instanceIds.length,
      CompletedCount: 0,
      ErrorCount: 0,
      DeliveryTimedOutCount: 0,
      ServiceRole: input.ServiceRoleArn ?? '',
      NotificationConfig: {
        NotificationArn: input.NotificationConfig?.NotificationArn ?? '',
        NotificationEvents: input.NotificationConfig?.NotificationEvents ?? [],
        ...(input.NotificationConfig?.NotificationType ? {NotificationType: input.NotificationConfig.NotificationType} : {}),
      },
      CloudWatchOutputConfig: {
        CloudWatchLogGroupName: input.CloudWatchOutputConfig?.CloudWatchLogGroupName ?? '',
        CloudWatchOutputEnabled: input.CloudWatchOutputConfig?.CloudWatchOutputEnabled ?? false,
      },
      TimeoutSeconds: timeoutSeconds,
      Invocations: instanceIds.map((instanceId) => ({
        CommandId: commandId,
        InstanceId: instanceId,
        InstanceName: ec2?.describeInstance(region, instanceId)?.tags.Name ?? '',
        Status: 'Pending',
        StatusDetails: 'Pending',
        RequestedDateTime: now,
        ResponseCode: -1,
        StandardOutputContent: '',
        StandardErrorContent: '',
        StandardOutputUrl: urlOf(instanceId, 'stdout'),
        StandardErrorUrl: urlOf(instanceId, 'stderr'),
        Visible: false,
      })),
    }
    this.commands.push(command)
    this.record(command, undefined, 'sent', `SendCommand ${commandId} to ${instanceIds.join(', ') || 'no instance'}`)
    this.publishCommand(command)
    if (instanceIds.length === 0) this.settle(command)
    for (const invocation of command.Invocations) {
      const live: Live = {stdout: [], stderr: [], stdoutBytes: 0, stderrBytes: 0}
      this.live.set(liveKey(invocation), live)
      // The agent polls for work: a short real-time delay, during which the invocation does not exist yet.
      live.pickup = setTimeout(() => this.pickUp(command, invocation, live), PICKUP_MS)
      live.pickup.unref()
    }
    this.host.changed()
    return command
  }

  private transition(command: CommandRecord, invocation: InvocationRecord, status: InvocationStatus, details: string): void {
    invocation.Status = status
    invocation.StatusDetails = details
    this.record(command, invocation, status, `${invocation.InstanceId}: ${status}${details !== status ? ` (${details})` : ''}`)
    this.publishInvocation(command, invocation)
    this.settle(command)
    this.host.changed()
  }

  private pickUp(command: CommandRecord, invocation: InvocationRecord, live: Live): void {
    live.pickup = undefined
    invocation.Visible = true
    if (live.cancelled) {
      this.finish(command, invocation, live, 'Cancelled', 'Cancelled', -1)
      return
    }
    // Delivery: the instance must still be running; else it is Undeliverable, as AWS reports an agent it cannot reach.
    void this.env.internal('ec2').then(
      (ec2) => this.run(command, invocation, live, ec2),
      (error: Error) => this.finish(command, invocation, live, 'Failed', 'Undeliverable', -1, '', `${error.message}\n`),
    )
  }

  private run(command: CommandRecord, invocation: InvocationRecord, live: Live, ec2: Ec2Internal): void {
    const script = command.Parameters.commands!.join('\n')
    const workingDirectory = command.Parameters.workingDirectory?.[0] || undefined
    const onStdout = (chunk: Buffer) => {
      if (live.stdoutBytes < FULL_OUTPUT_LIMIT) live.stdout.push(chunk)
      live.stdoutBytes += chunk.length
    }
    const onStderr = (chunk: Buffer) => {
      if (live.stderrBytes < FULL_OUTPUT_LIMIT) live.stderr.push(chunk)
      live.stderrBytes += chunk.length
    }
    let exec: RunningExec
    try {
      exec = ec2.exec(command.Region, invocation.InstanceId, {script, workingDirectory, onStdout, onStderr})
    } catch (error) {
      const message = error instanceof AwsError || error instanceof Error ? error.message : String(error)
      this.finish(command, invocation, live, 'Failed', 'Undeliverable', -1, '', `${message}\n`)
      return
    }
    live.exec = exec
    invocation.ExecutionStartDateTime = this.env.clock.now()
    this.transition(command, invocation, 'InProgress', 'InProgress')
    const seconds = Number(command.Parameters.executionTimeout?.[0] ?? 3600)
    live.timer = this.env.clock.after(seconds * 1000, () => {
      live.timedOut = true
      exec.kill('SIGKILL')
    })
    void exec.done.then(({exitCode, signal}) => {
      live.timer?.cancel()
      if (live.timedOut) {
        this.finish(
          command,
          invocation,
          live,
          'TimedOut',
          'ExecutionTimedOut',
          -1,
          '',
          `Command execution timed out after ${seconds} seconds.\n`,
        )
      } else if (live.cancelled) {
        this.finish(command, invocation, live, 'Cancelled', 'Cancelled', -1)
      } else if (exitCode === 0) {
        this.finish(command, invocation, live, 'Success', 'Success', 0)
      } else if (exitCode !== null) {
        this.finish(command, invocation, live, 'Failed', 'Failed', exitCode, '', `failed to run commands: exit status ${exitCode}\n`)
      } else {
        // Killed from outside (the instance stopped or terminated under it).
        this.finish(
          command,
          invocation,
          live,
          'Failed',
          'Failed',
          -1,
          '',
          `failed to run commands: the process was killed (${signal}); the instance stopped or terminated\n`,
        )
      }
    })
  }

  private finish(
    command: CommandRecord,
    invocation: InvocationRecord,
    live: Live,
    status: InvocationStatus,
    details: string,
    code: number,
    _extraOut = '',
    extraErr = '',
  ): void {
    if (isTerminal(invocation.Status)) return
    this.live.delete(liveKey(invocation))
    const stdout = Buffer.concat(live.stdout).toString('utf8')
    const stderr = Buffer.concat(live.stderr).toString('utf8') + extraErr
    invocation.Visible = true
    invocation.ResponseCode = code
    invocation.ExecutionEndDateTime = this.env.clock.now()
    invocation.ExecutionStartDateTime ??= invocation.ExecutionEndDateTime
    invocation.StandardOutputContent = stdout.slice(0, STDOUT_LIMIT)
    invocation.StandardErrorContent = stderr.slice(0, STDERR_LIMIT)
    // Output goes out before the terminal status shows, as the agent uploads before it reports.
    void this.deliverOutput(command, invocation, stdout, stderr).finally(() => this.transition(command, invocation, status, details))
  }

  private async deliverOutput(command: CommandRecord, invocation: InvocationRecord, stdout: string, stderr: string): Promise<void> {
    const tasks: Promise<unknown>[] = []
    if (command.OutputS3BucketName) {
      const prefix = command.OutputS3KeyPrefix.replace(/\/+$/, '')
      for (const [stream, body] of [
        ['stdout', stdout],
        ['stderr', stderr],
      ] as const) {
        if (!body) continue
        const key = outputKey(prefix, command.CommandId, invocation.InstanceId, stream)
        tasks.push(
          this.host.upload(command.OutputS3Region, invocation.InstanceId, command.OutputS3BucketName, key, body).then((problem) => {
            this.env.events.record({
              service: 'ssm',
              kind: 'ssm.output',
              outcome: problem ? 'failed' : 'delivered',
              summary: `${stream} of ${command.CommandId} on ${invocation.InstanceId} to s3://${command.OutputS3BucketName}/${key}`,
              ...(problem ? {reason: problem} : {}),
              resource: `arn:aws:s3:::${command.OutputS3BucketName}/${key}`,
              correlation: {commandId: command.CommandId, instanceId: invocation.InstanceId},
            })
          }),
        )
      }
    }
    if (command.CloudWatchOutputConfig.CloudWatchOutputEnabled) {
      const group = command.CloudWatchOutputConfig.CloudWatchLogGroupName || `/aws/ssm/${command.DocumentName}`
      tasks.push(
        this.env
          .internal('logs')
          .then((logs) => {
            const now = this.env.clock.now()
            for (const [stream, body] of [
              ['stdout', stdout],
              ['stderr', stderr],
            ] as const) {
              if (!body) continue
              const lines = body.replace(/\n$/, '').split('\n')
              logs.append(command.Region, group, `${command.CommandId}/${invocation.InstanceId}/aws-runShellScript/${stream}`, [
                {timestamp: now, message: lines.join('\n')},
              ])
            }
          })
          .catch((error: Error) =>
            this.env.events.record({
              service: 'ssm',
              kind: 'ssm.output',
              outcome: 'skipped',
              summary: `CloudWatch output of ${command.CommandId} on ${invocation.InstanceId} not written`,
              reason: error.message,
              correlation: {commandId: command.CommandId, instanceId: invocation.InstanceId},
            }),
          ),
      )
    }
    await Promise.allSettled(tasks)
  }

  /** The command's own status from its invocations' (AWS's rules: any failure fails it, all cancelled cancels it). */
  private settle(command: CommandRecord): void {
    const statuses = command.Invocations.map((invocation) => invocation.Status)
    const done = statuses.filter(isTerminal)
    command.CompletedCount = done.length
    command.ErrorCount = statuses.filter((status) => status === 'Failed' || status === 'TimedOut').length
    command.DeliveryTimedOutCount = command.Invocations.filter((invocation) => invocation.StatusDetails === 'DeliveryTimedOut').length
    let next: CommandStatus
    let details: string
    if (done.length < statuses.length) {
      next = statuses.some((status) => status !== 'Pending') ? 'InProgress' : 'Pending'
      if (statuses.includes('Cancelling')) next = 'Cancelling'
      details = next
    } else if (statuses.length === 0 || statuses.every((status) => status === 'Success')) {
      next = 'Success'
      details = 'Success'
    } else if (statuses.every((status) => status === 'Cancelled')) {
      next = 'Cancelled'
      details = 'Cancelled'
    } else if (statuses.includes('TimedOut') && !statuses.includes('Failed')) {
      next = 'TimedOut'
      details = 'TimedOut'
    } else if (statuses.includes('Failed') || statuses.includes('TimedOut')) {
      next = 'Failed'
      details = 'Failed'
    } else {
      next = 'Success'
      details = 'Success'
    }
    if (next !== command.Status) {
      command.Status = next
      command.StatusDetails = details
      this.record(command, undefined, next, `command ${command.CommandId}: ${next}`)
      this.publishCommand(command)
    }
  }

  cancel(commandId: string, instanceIds: string[] | undefined): void {
    const command = this.find(commandId)
    if (!command) throw errors.invalidCommandId(`Command ${commandId} does not exist.`)
    const targets = instanceIds?.length ? instanceIds : command.Invocations.map((invocation) => invocation.InstanceId)
    if (new Set(targets).size !== targets.length) throw errors.duplicateInstanceId('Instance Id is duplicated in the list of instance ids.')
    for (const id of targets) {
      if (!command.Invocations.some((invocation) => invocation.InstanceId === id)) {
        throw errors.invalidInstanceId(`Instance ${id} is not a target of command ${commandId}.`)
      }
    }
    for (const invocation of command.Invocations) {
      if (!targets.includes(invocation.InstanceId) || isTerminal(invocation.Status)) continue
      const live = this.live.get(liveKey(invocation))
      if (!live) continue
      live.cancelled = true
      if (live.exec) live.exec.kill('SIGKILL')
      else if (invocation.Visible === false && live.pickup) {
        clearTimeout(live.pickup)
        this.finish(command, invocation, live, 'Cancelled', 'Cancelled', -1)
      }
    }
  }

  /** On start: invocations that were not finished when the emulator went down end Failed, with their events. */
  reconcile(): number {
    let failed = 0
    for (const command of this.commands) {
      for (const invocation of command.Invocations) {
        if (isTerminal(invocation.Status) || this.live.has(liveKey(invocation))) continue
        invocation.Visible = true
        invocation.ResponseCode = -1
        invocation.ExecutionEndDateTime = this.env.clock.now()
        invocation.ExecutionStartDateTime ??= invocation.ExecutionEndDateTime
        invocation.StandardErrorContent =
          `${invocation.StandardErrorContent}failed to run commands: the emulator restarted while the command ran; the instance's processes ended with it\n`.slice(
            0,
            STDERR_LIMIT,
          )
        this.transition(command, invocation, 'Failed', 'Failed')
        failed++
      }
    }
    return failed
  }

  /** Stops timers and pending pickups (the emulator closes; running scripts end with their instances). */
  close(): void {
    for (const live of this.live.values()) {
      if (live.pickup) clearTimeout(live.pickup)
      live.timer?.cancel()
    }
  }

  private record(command: CommandRecord, invocation: InvocationRecord | undefined, status: string, summary: string): void {
    const failed = ['Failed', 'TimedOut', 'Cancelled'].includes(status)
    this.env.events.record({
      service: 'ssm',
      kind: 'ssm.command',
      outcome: failed ? 'failed' : status === 'Success' ? 'ok' : 'info',
      summary,
      ...(failed && invocation ? {reason: invocation.StandardErrorContent.trim().split('\n').at(-1)?.slice(0, 300) || status} : {}),
      resource: invocation
        ? arnOfInstance(command.Region, invocation.InstanceId)
        : `arn:aws:ssm:${command.Region}:${ACCOUNT_ID}:command/${command.CommandId}`,
      correlation: {commandId: command.CommandId, ...(invocation ? {instanceId: invocation.InstanceId} : {})},
      detail: {
        status,
        ...(invocation
          ? {responseCode: invocation.ResponseCode, statusDetails: invocation.StatusDetails}
          : {targetCount: command.TargetCount}),
      },
    })
  }

  private publish(region: string, detailType: string, detail: Record<string, unknown>, resources: string[]): void {
    void this.env
      .internal('events')
      .then((events) => events.publish([{source: 'aws.ssm', detailType, detail, resources, region}]))
      .catch(() => {
        // No EventBridge in this emulator (yet): the event record still has the transition.
      })
  }

  private publishCommand(command: CommandRecord): void {
    this.publish(
      command.Region,
      'EC2 Command Status-change Notification',
      {
        'command-id': command.CommandId,
        'document-name': command.DocumentName,
        'expire-after': isoSeconds(command.ExpiresAfter),
        parameters: {
          executionTimeout: command.Parameters.executionTimeout ?? ['3600'],
          commands: command.Parameters.commands ?? [],
          ...(command.Parameters.workingDirectory ? {workingDirectory: command.Parameters.workingDirectory} : {}),
        },
        'requested-date-time': isoSeconds(command.RequestedDateTime),
        status: command.Status,
      },
      command.Invocations.map((invocation) => arnOfInstance(command.Region, invocation.InstanceId)),
    )
  }

  private publishInvocation(command: CommandRecord, invocation: InvocationRecord): void {
    this.publish(
      command.Region,
      'EC2 Command Invocation Status-change Notification',
      {
        'command-id': command.CommandId,
        'document-name': command.DocumentName,
        'instance-id': invocation.InstanceId,
        'requested-date-time': isoSeconds(invocation.RequestedDateTime),
        status: invocation.Status,
      },
      [arnOfInstance(command.Region, invocation.InstanceId)],
    )
  }

  /** GetCommandInvocation's answer. */
  invocationView(commandId: string, instanceId: string, pluginName: string | undefined): Record<string, unknown> {
    if (!/^[0-9a-f-]{36}$/.test(commandId)) throw errors.invalidCommandId(`Command ID ${commandId} is not valid.`)
    if (!/^(i|mi)-[0-9a-f]{8,17}$/.test(instanceId)) throw errors.invalidInstanceId(`Instance ID ${instanceId} is not valid.`)
    const command = this.find(commandId)
    const invocation = command?.Invocations.find((candidate) => candidate.InstanceId === instanceId)
    if (!command || !invocation?.Visible) throw errors.invocationDoesNotExist('')
    if (pluginName && pluginName !== PLUGIN && pluginName !== 'aws:runShellScript') {
      throw errors.invalidPluginName(`Plugin ${pluginName} is not a plugin of document ${command.DocumentName}.`)
    }
    const terminal = isTerminal(invocation.Status)
    const elapsed =
      invocation.ExecutionStartDateTime !== undefined
        ? (invocation.ExecutionEndDateTime ?? this.env.clock.now()) - invocation.ExecutionStartDateTime
        : 0
    return {
      CommandId: commandId,
      InstanceId: instanceId,
      Comment: command.Comment,
      DocumentName: command.DocumentName,
      DocumentVersion: command.DocumentVersion,
      PluginName: PLUGIN,
      ResponseCode: invocation.ResponseCode,
      ExecutionStartDateTime: invocation.ExecutionStartDateTime !== undefined ? isoMillis(invocation.ExecutionStartDateTime) : '',
      ExecutionElapsedTime: invocation.ExecutionStartDateTime !== undefined ? durationOf(elapsed) : '',
      ExecutionEndDateTime: invocation.ExecutionEndDateTime !== undefined ? isoMillis(invocation.ExecutionEndDateTime) : '',
      Status: invocation.Status,
      StatusDetails: invocation.StatusDetails,
      StandardOutputContent: terminal ? invocation.StandardOutputContent : '',
      StandardOutputUrl: invocation.StandardOutputUrl,
      StandardErrorContent: terminal ? invocation.StandardErrorContent : '',
      StandardErrorUrl: invocation.StandardErrorUrl,
      CloudWatchOutputConfig: command.CloudWatchOutputConfig,
    }
  }

  /** An invocation as ListCommandInvocations lists it (with its plugin when Details). */
  listedInvocation(command: CommandRecord, invocation: InvocationRecord, details: boolean): Record<string, unknown> {
    const terminal = isTerminal(invocation.Status)
    const output = [
      invocation.StandardOutputContent,
      invocation.StandardErrorContent ? `\n----------ERROR-------\n${invocation.StandardErrorContent}` : '',
    ]
      .join('')
      .slice(0, PLUGIN_OUTPUT_LIMIT)
    return {
      CommandId: command.CommandId,
      InstanceId: invocation.InstanceId,
      InstanceName: invocation.InstanceName,
      Comment: command.Comment,
      DocumentName: command.DocumentName,
      DocumentVersion: command.DocumentVersion,
      RequestedDateTime: invocation.RequestedDateTime / 1000,
      Status: invocation.Status,
      StatusDetails: invocation.StatusDetails,
      TraceOutput: '',
      StandardOutputUrl: invocation.StandardOutputUrl,
      StandardErrorUrl: invocation.StandardErrorUrl,
      CommandPlugins: details
        ? [
            {
              Name: PLUGIN,
              Status: invocation.Status,
              StatusDetails: invocation.StatusDetails,
              ResponseCode: invocation.ResponseCode,
              ...(invocation.ExecutionStartDateTime !== undefined ? {ResponseStartDateTime: invocation.ExecutionStartDateTime / 1000} : {}),
              ...(invocation.ExecutionEndDateTime !== undefined ? {ResponseFinishDateTime: invocation.ExecutionEndDateTime / 1000} : {}),
              Output: terminal ? output : '',
              StandardOutputUrl: invocation.StandardOutputUrl,
              StandardErrorUrl: invocation.StandardErrorUrl,
              OutputS3Region: command.OutputS3Region,
              OutputS3BucketName: command.OutputS3BucketName,
              OutputS3KeyPrefix: command.OutputS3BucketName
                ? `${outputKey(command.OutputS3KeyPrefix.replace(/\/+$/, ''), command.CommandId, invocation.InstanceId, 'stdout').replace(/\/stdout$/, '')}`
                : '',
            },
          ]
        : [],
      ServiceRole: command.ServiceRole,
      NotificationConfig: command.NotificationConfig,
      CloudWatchOutputConfig: command.CloudWatchOutputConfig,
    }
  }

  commandView(command: CommandRecord): Record<string, unknown> {
    const {Region: _region, Invocations: _invocations, ...rest} = command
    return {...rest, ExpiresAfter: command.ExpiresAfter / 1000, RequestedDateTime: command.RequestedDateTime / 1000}
  }
}

const liveKey = (invocation: InvocationRecord) => `${invocation.CommandId}/${invocation.InstanceId}`

/** AWS's layout: <prefix>/<commandId>/<instanceId>/awsrunShellScript/0.awsrunShellScript/{stdout,stderr}. */
export function outputKey(prefix: string, commandId: string, instanceId: string, stream: 'stdout' | 'stderr'): string {
  const tail = `${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/${stream}`
  return prefix ? `${prefix}/${tail}` : tail
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')
/** GetCommandInvocation's dates are strings such as 2026-12-01T08:00:00.123Z. */
const isoMillis = (ms: number) => new Date(ms).toISOString()
/** ExecutionElapsedTime as AWS writes it: PT0.123S. */
const durationOf = (ms: number) => `PT${(ms / 1000).toFixed(3)}S`
