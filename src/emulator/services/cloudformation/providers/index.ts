/** Every resource type the engine provisions, by type name (supported.ts lists the same names without loading these). */
import * as ec2 from './ec2.js'
import * as events from './events.js'
import * as iam from './iam.js'
import * as lambda from './lambda.js'
import * as logs from './logs.js'
import * as s3 from './s3.js'
import * as secretsmanager from './secretsmanager.js'
import * as ssm from './ssm.js'
import * as stacks from './stacks.js'
import type {ResourceProvider} from './types.js'

const PROVIDERS: Record<string, ResourceProvider> = {
  'AWS::S3::Bucket': s3.bucket,
  'AWS::S3::BucketPolicy': s3.bucketPolicy,
  'AWS::IAM::User': iam.user,
  'AWS::IAM::Group': iam.group,
  'AWS::IAM::Policy': iam.inlinePolicy,
  'AWS::IAM::ManagedPolicy': iam.managedPolicy,
  'AWS::IAM::Role': iam.role,
  'AWS::IAM::InstanceProfile': iam.instanceProfile,
  'AWS::IAM::AccessKey': iam.accessKey,
  'AWS::IAM::UserToGroupAddition': iam.userToGroupAddition,
  'AWS::Lambda::Function': lambda.lambdaFunction,
  'AWS::Lambda::Permission': lambda.permission,
  'AWS::Logs::LogGroup': logs.logGroup,
  'AWS::Events::Rule': events.rule,
  'AWS::SecretsManager::Secret': secretsmanager.secret,
  'AWS::SSM::Parameter': ssm.parameter,
  'AWS::EC2::SecurityGroup': ec2.securityGroup,
  'AWS::CloudFormation::Stack': stacks.nestedStack,
  'AWS::CloudFormation::CustomResource': stacks.customResource,
}

export function providerFor(type: string): ResourceProvider | undefined {
  return PROVIDERS[type] ?? (type.startsWith('Custom::') ? stacks.customResource : undefined)
}

export const isCustomType = (type: string) => type === 'AWS::CloudFormation::CustomResource' || type.startsWith('Custom::')
