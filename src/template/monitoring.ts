// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is CloudFormation Fn::Sub syntax, not a JS template
/**
 * The monitor Lambda: it reacts to the EC2 state changes that the per-job
 * EventBridge rules (created by the submit handler at run time, named with the
 * job-rule prefix) deliver, and to a schedule that catches instances past their
 * timeout. `MONITOR: false` leaves all of it out.
 */
import type {Pipeline} from '../config/model.js'
import {addFunction} from './functions.js'
import {functionName, jobRulePrefix} from './names.js'
import {bucketArn} from './storage.js'
import {getAtt, ref, sub, type TemplateParts} from './types.js'

export const MONITOR_SCHEDULE = 'rate(1 minute)'

/** Adds the monitor and returns its ARN for the submit handler's environment, or '' when monitoring is off. */
export function addMonitor(parts: TemplateParts, pipeline: Pipeline): unknown {
  if (!pipeline.instance.monitor) return ''
  const rulePrefix = jobRulePrefix(pipeline.name)
  const rulesArn = `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rulePrefix}*`
  const {functionId} = addFunction(parts, {
    stem: 'Monitor',
    name: functionName(pipeline.name, 'monitor'),
    description: `ncap ${pipeline.name}: records job instances' state changes and stops those past their timeout`,
    asset: 'lambda_repo/monitor',
    handler: 'index.handler',
    timeout: 300,
    environment: {
      PIPELINE_NAME: pipeline.name,
      BUCKET_NAME: pipeline.name,
      REGION: pipeline.instance.region,
      OUTDIR: pipeline.instance.outDir,
      LOGDIR: pipeline.instance.logDir,
      SHUTDOWN_BEHAVIOR: pipeline.instance.shutdownBehavior,
      JOB_RULE_PREFIX: rulePrefix,
    },
    statements: [
      {
        Sid: 'BucketObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: bucketArn(pipeline, '*'),
      },
      {Sid: 'BucketListing', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn(pipeline)},
      // Describe* has no resource-level permissions; stopping is limited to this pipeline's tagged instances.
      {Sid: 'DescribeInstances', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus'], Resource: '*'},
      {
        Sid: 'StopJobInstances',
        Effect: 'Allow',
        Action: ['ec2:StopInstances', 'ec2:TerminateInstances'],
        Resource: sub('arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*'),
        Condition: {StringEquals: {'aws:ResourceTag/pipeline': pipeline.name}},
      },
      // Each dataset's outcome is its SSM command's.
      {Sid: 'JobCommands', Effect: 'Allow', Action: 'ssm:GetCommandInvocation', Resource: '*'},
      {
        Sid: 'JobRules',
        Effect: 'Allow',
        Action: ['events:DeleteRule', 'events:RemoveTargets', 'events:ListTargetsByRule'],
        Resource: sub(rulesArn),
      },
    ],
  })
  parts.resource('MonitorSchedule', {
    Type: 'AWS::Events::Rule',
    Properties: {
      Description: `ncap ${pipeline.name}: checks running jobs for timeouts`,
      ScheduleExpression: MONITOR_SCHEDULE,
      State: 'ENABLED',
      Targets: [{Id: 'monitor', Arn: getAtt(functionId, 'Arn')}],
    },
  })
  parts.resource('MonitorSchedulePermission', {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: ref(functionId),
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt('MonitorSchedule', 'Arn'),
    },
  })
  parts.resource('MonitorJobRulesPermission', {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: ref(functionId),
      Principal: 'events.amazonaws.com',
      SourceArn: sub(rulesArn),
    },
  })
  parts.output('MonitorFunctionArn', {Description: 'The monitor Lambda function', Value: getAtt(functionId, 'Arn')})
  return getAtt(functionId, 'Arn')
}
