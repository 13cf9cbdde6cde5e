/**
 * How emulated services reach each other inside the emulator, as AWS services
 * do behind the scenes: S3 invokes a Lambda for a notification, EventBridge
 * delivers to a Lambda target, EC2 publishes state changes to EventBridge, SSM
 * runs a command inside an EC2 instance. A service that others call exposes one
 * of these interfaces as the `internal` member of its EmulatedService; a caller
 * gets it with `env.internal('lambda')`, which loads the service on first use.
 *
 * Calls made as an AWS service (S3, EventBridge, CloudFormation invoking a
 * function) go through the target's resource policy, exactly as on AWS; calls
 * that AWS makes with no policy in between (EC2 → EventBridge's default bus)
 * do not.
 */

/** What `env.internal(name)` returns for each service that exposes one. */
export interface InternalApis {
  lambda: LambdaInternal
  events: EventsInternal
  ec2: Ec2Internal
  logs: LogsInternal
}

export interface ServiceInvocation {
  /** The function's name, ARN or partial ARN (a qualifier after ':' allowed). */
  functionName: string
  payload: unknown
  /** The AWS service principal invoking: s3.amazonaws.com, events.amazonaws.com, cloudformation.amazonaws.com. */
  principal: string
  /** The ARN of the bucket, rule or stack on whose behalf it invokes (checked against the policy's SourceArn). */
  sourceArn?: string
  sourceAccount?: string
  /** Event: queued, retried twice on error with AWS's back-off; RequestResponse: the result is awaited. */
  invocationType: 'Event' | 'RequestResponse'
  /** Ids that tie the invoke into the event record's chain (bucket, key, rule, jobId…). */
  correlation?: Record<string, string>
}

export interface ServiceInvocationResult {
  /** 202 for Event, 200 for RequestResponse. */
  statusCode: number
  /** The handler's result (RequestResponse), already JSON-decoded when it is JSON. */
  payload?: unknown
  /** 'Unhandled' when the handler threw, timed out or ran out of memory. */
  functionError?: string
  requestId?: string
}

export type PermissionCheck = {allowed: true} | {allowed: false; reason: string}

export interface LambdaInternal {
  /**
   * Invokes a function as an AWS service would. Refused (AwsError AccessDenied /
   * ResourceNotFoundException) when the function does not exist or its resource
   * policy does not let `principal` invoke it for `sourceArn`/`sourceAccount`.
   */
  invokeAsService(invocation: ServiceInvocation): Promise<ServiceInvocationResult>
  /** Whether `principal` may invoke the function, without invoking it (S3 validates notification targets this way). */
  checkServicePermission(functionName: string, principal: string, sourceArn?: string, sourceAccount?: string): PermissionCheck
  /** The function's ARN when it exists. */
  functionArn(functionName: string): string | undefined
}

/** An event as it enters the default bus: PutEvents' entry shape, with the detail as an object. */
export interface BusEvent {
  source: string
  detailType: string
  detail: Record<string, unknown>
  resources?: string[]
  region?: string
  /** Defaults to the emulator's clock. */
  time?: Date
}

export interface EventsInternal {
  /** Puts events on the default bus of their region (AWS services' own events: aws.ec2, aws.ssm); returns their ids. */
  publish(events: BusEvent[]): string[]
}

export interface LogsInternal {
  /** Appends lines to a log stream, creating the group and the stream when missing (as Lambda's and SSM's agents do). */
  append(region: string, group: string, stream: string, events: {timestamp: number; message: string}[]): void
}

/** What other services need to know of an instance. */
export interface InstanceView {
  instanceId: string
  region: string
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated'
  imageId: string
  instanceType: string
  /** The instance profile's ARN, when it has one. */
  iamInstanceProfileArn?: string
  tags: Record<string, string>
  launchTime: Date
}

/** A command run inside an instance (what SSM's agent does for AWS-RunShellScript). */
export interface InstanceExec {
  /** The script, run by bash with full shell syntax. */
  script: string
  /** Inside the instance's view (for example /home/ubuntu/bin); the instance's home when absent. */
  workingDirectory?: string
  /** Added to the instance's environment (which already holds the role's credentials, region and endpoint). */
  env?: Record<string, string>
  onStdout?(chunk: Buffer): void
  onStderr?(chunk: Buffer): void
}

export interface RunningExec {
  /** The process group leader's pid on the host. */
  pid: number
  /** Resolves when the script ends: its exit code, or the signal that ended it. */
  done: Promise<{exitCode: number | null; signal: string | null}>
  /** Kills the script's whole process group. */
  kill(signal?: NodeJS.Signals): void
}

export interface Ec2Internal {
  describeInstance(region: string, instanceId: string): InstanceView | undefined
  /** Starts a script inside a running instance; throws (AwsError InvalidInstanceId) when it is not running. */
  exec(region: string, instanceId: string, command: InstanceExec): RunningExec
}
