// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is CloudFormation Fn::Sub syntax, not a JS template
/**
 * The job side of the stack: the submit Lambda (its role, its S3 invoke
 * permission and the notifications that trigger it), the optional post-processing
 * Lambda, and what the job's EC2 instances run as (an instance role and profile
 * with what SSM needs, and a security group with no inbound rules) unless the
 * config names existing ones (IAM_ROLE, SECURITY_GROUPS, KEY_NAME), which are then
 * only referenced.
 */
import {relative, sep} from 'node:path'
import type {Pipeline} from '../config/model.js'
import {NcapError} from '../errors.js'
import {addFunction, assumeRolePolicy, LAMBDA_PYTHON_RUNTIME, type PolicyStatement} from './functions.js'
import {functionName, jobRulePrefix} from './names.js'
import {bucketArn, CONFIGS_DIR, type Notification, SUBMISSIONS_DIR} from './storage.js'
import {getAtt, ref, sub, type TemplateParts} from './types.js'

export const SUBMIT_SUFFIX = 'submit.json'
export const SUBMIT_ID = 'SubmitFunction'
export const POST_PROCESS_ID = 'PostProcessFunction'
/** Lambda's longest timeout. */
export const LAMBDA_MAX_TIMEOUT = 900

/** The config folder-relative path of a code folder, with forward slashes as template text wants. */
export function assetPath(pipeline: Pipeline, dir: string): string {
  const rel = relative(pipeline.dir, dir).split(sep).join('/')
  return rel === '' ? '.' : rel
}

/** What the job instances run as: created by the stack, or referenced from the account. */
export interface InstanceIdentity {
  /** Value for the submit handler's INSTANCE_PROFILE (a profile name). */
  profileName: unknown
  /** The role the submit handler may pass to EC2. */
  roleArn: unknown
  /** Value for SECURITY_GROUPS (comma-separated names or ids). */
  securityGroups: unknown
}

export function addInstanceIdentity(parts: TemplateParts, pipeline: Pipeline): InstanceIdentity {
  const {iamRole, securityGroups} = pipeline.instance
  let profileName: unknown
  let roleArn: unknown
  if (iamRole !== undefined) {
    // NeuroCAAS's IAM_ROLE names an instance profile; the console gives the profile its role's name.
    profileName = iamRole
    roleArn = sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${iamRole}`)
  } else {
    parts.resource('InstanceRole', {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Role of the job instances of ncap pipeline ${pipeline.name}`,
        AssumeRolePolicyDocument: assumeRolePolicy('ec2.amazonaws.com'),
        ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore')],
        Policies: [
          {
            PolicyName: 'InstanceBucketAccess',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], Resource: bucketArn(pipeline, '*')},
                {Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn(pipeline)},
              ],
            },
          },
        ],
      },
    })
    parts.resource('InstanceProfile', {Type: 'AWS::IAM::InstanceProfile', Properties: {Roles: [ref('InstanceRole')]}})
    profileName = ref('InstanceProfile')
    roleArn = getAtt('InstanceRole', 'Arn')
  }
  let groups: unknown
  if (securityGroups.length > 0) {
    groups = securityGroups.join(',')
  } else {
    // No VpcId: the account's default VPC. No ingress: instances are reached through SSM only.
    parts.resource('InstanceSecurityGroup', {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {GroupDescription: `ncap ${pipeline.name} job instances: no inbound access`},
    })
    groups = getAtt('InstanceSecurityGroup', 'GroupId')
  }
  return {profileName, roleArn, securityGroups: groups}
}

export interface SubmitSettings {
  instance: InstanceIdentity
  /** GetAtt of the monitor function's ARN, or '' when MONITOR is false. */
  monitorArn: unknown
}

function submitEnvironment(pipeline: Pipeline, settings: SubmitSettings): Record<string, unknown> {
  const i = pipeline.instance
  return {
    PIPELINE_NAME: pipeline.name,
    BUCKET_NAME: pipeline.name,
    REGION: i.region,
    AMI: i.ami,
    INSTANCE_TYPE: i.instanceType,
    COMMAND: i.command,
    COMMAND_SLOTS: String(i.commandSlots),
    WORKING_DIRECTORY: i.workingDirectory ?? '',
    EXECUTION_TIMEOUT: String(i.executionTimeout),
    SSM_TIMEOUT: String(i.ssmTimeout),
    DEPLOY_LIMIT: String(i.deployLimit),
    MAXCOST: String(i.maxCost),
    LAUNCH: String(pipeline.launch),
    MONITOR: String(i.monitor),
    INDIR: i.inDir,
    OUTDIR: i.outDir,
    LOGDIR: i.logDir,
    CONFIGDIR: CONFIGS_DIR,
    SUBMITDIR: SUBMISSIONS_DIR,
    LOGFILE: i.logFile,
    CONFIG: i.config,
    MISSING_CONFIG_ERROR: i.missingConfigError,
    SHUTDOWN_BEHAVIOR: i.shutdownBehavior,
    INSTANCE_PROFILE: settings.instance.profileName,
    SECURITY_GROUPS: settings.instance.securityGroups,
    KEY_NAME: i.keyName ?? '',
    MONITOR_FUNCTION_ARN: settings.monitorArn,
    JOB_RULE_PREFIX: jobRulePrefix(pipeline.name),
  }
}

/** The permission that lets S3 invoke a function; the literal bucket ARN keeps the bucket out of a cycle. */
function addS3Permission(parts: TemplateParts, pipeline: Pipeline, id: string, functionId: string): string {
  return parts.resource(id, {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: ref(functionId),
      Principal: 's3.amazonaws.com',
      SourceArn: bucketArn(pipeline),
      SourceAccount: ref('AWS::AccountId'),
    },
  })
}

export interface JobResources {
  notifications: Notification[]
  permissionIds: string[]
}

export function addSubmit(parts: TemplateParts, pipeline: Pipeline, settings: SubmitSettings): JobResources {
  const i = pipeline.instance
  if (!Number.isInteger(i.executionTimeout) || i.executionTimeout < 1 || i.executionTimeout > LAMBDA_MAX_TIMEOUT) {
    throw new NcapError(
      `${pipeline.file}: $.Lambda.LambdaConfig.EXECUTION_TIMEOUT is the submit Lambda's timeout: expected whole seconds from 1 to ${LAMBDA_MAX_TIMEOUT}, found ${i.executionTimeout}`,
      {code: 'InvalidExecutionTimeout', exitCode: 2},
    )
  }
  const handler = pipeline.submitHandler
  const rulePrefix = jobRulePrefix(pipeline.name)
  const statements: PolicyStatement[] = [
    {
      Sid: 'BucketObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: bucketArn(pipeline, '*'),
    },
    {Sid: 'BucketListing', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn(pipeline)},
    // RunInstances touches many resource types (image, subnet, volume, interface…); Describe* has no resource level.
    {
      Sid: 'JobInstances',
      Effect: 'Allow',
      Action: [
        'ec2:RunInstances',
        'ec2:CreateTags',
        'ec2:TerminateInstances',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeImages',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    },
    {Sid: 'PassInstanceRole', Effect: 'Allow', Action: 'iam:PassRole', Resource: settings.instance.roleArn},
    {
      Sid: 'JobCommands',
      Effect: 'Allow',
      Action: ['ssm:SendCommand', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'],
      Resource: '*',
    },
    // The group budgets the submit handler reads (/ncap/<pipeline>/budgets/<group>), and AWS's price list.
    {
      Sid: 'GroupBudgets',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/ncap/${pipeline.name}/budgets/*`),
    },
    {Sid: 'Prices', Effect: 'Allow', Action: 'pricing:GetProducts', Resource: '*'},
    {
      Sid: 'JobRules',
      Effect: 'Allow',
      Action: ['events:PutRule', 'events:PutTargets', 'events:DeleteRule', 'events:RemoveTargets', 'events:DescribeRule'],
      Resource: sub(`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rulePrefix}*`),
    },
  ]
  const {functionId} = addFunction(parts, {
    stem: 'Submit',
    name: functionName(pipeline.name, 'submit'),
    description: `ncap ${pipeline.name}: validates submit.json files and launches the jobs`,
    asset: handler.kind === 'custom' ? assetPath(pipeline, handler.codeDir) : 'lambda_repo/submit_start',
    handler: handler.kind === 'custom' ? handler.handler : 'index.handler',
    timeout: i.executionTimeout,
    environment: submitEnvironment(pipeline, settings),
    statements,
    configPath: pipeline.file,
  })
  const permissionId = addS3Permission(parts, pipeline, 'SubmitInvokePermission', functionId)
  parts.output('SubmitFunctionArn', {Description: 'The submit Lambda function', Value: getAtt(functionId, 'Arn')})
  const notifications: Notification[] = pipeline.groups.map((g) =>
    g.userInput
      ? {
          prefix: `${g.name}/${SUBMISSIONS_DIR}/`,
          suffix: SUBMIT_SUFFIX,
          functionId,
          purpose: `group ${g.name}'s submissions (submit handler)`,
        }
      : // UserInput false: the group is fed by another analysis writing into its results (chaining).
        {
          prefix: `${g.name}/${i.outDir}/`,
          suffix: SUBMIT_SUFFIX,
          functionId,
          purpose: `group ${g.name}'s results (submit handler, UserInput false)`,
        },
  )
  return {notifications, permissionIds: [permissionId]}
}

/**
 * The post-processing Lambda (PostCodeUri/PostHandler/PostTrigger), on objects
 * created under each group's results. Left out, with a note, when its code folder
 * is not beside the config.
 */
export function addPostProcess(parts: TemplateParts, pipeline: Pipeline, notes: string[]): JobResources {
  const post = pipeline.postProcess
  if (!post) return {notifications: [], permissionIds: []}
  if (post.codeDir === undefined) {
    notes.push(`post-processing function left out: ${post.declaredCodeUri} not found beside ${pipeline.file} ($.Lambda.PostCodeUri)`)
    return {notifications: [], permissionIds: []}
  }
  const {functionId} = addFunction(parts, {
    stem: 'PostProcess',
    name: functionName(pipeline.name, 'postprocess'),
    description: `ncap ${pipeline.name}: post-processing of job results`,
    asset: assetPath(pipeline, post.codeDir),
    handler: post.handler,
    ...(post.language === 'python' ? {runtime: LAMBDA_PYTHON_RUNTIME} : {}),
    timeout: LAMBDA_MAX_TIMEOUT,
    environment: {PIPELINE_NAME: pipeline.name, BUCKET_NAME: pipeline.name, OUTDIR: pipeline.instance.outDir},
    statements: [
      {Sid: 'BucketObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: bucketArn(pipeline, '*')},
      {Sid: 'BucketListing', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn(pipeline)},
    ],
    configPath: pipeline.file,
  })
  const permissionId = addS3Permission(parts, pipeline, 'PostProcessInvokePermission', functionId)
  parts.output('PostProcessFunctionArn', {Description: 'The post-processing Lambda function', Value: getAtt(functionId, 'Arn')})
  const notifications = pipeline.groups.map((g) => ({
    prefix: `${g.name}/${pipeline.instance.outDir}/`,
    ...(post.trigger ? {suffix: post.trigger} : {}),
    functionId,
    purpose: `group ${g.name}'s results (post-processing${post.trigger ? `, PostTrigger ${post.trigger}` : ', no PostTrigger'})`,
  }))
  return {notifications, permissionIds: [permissionId]}
}
