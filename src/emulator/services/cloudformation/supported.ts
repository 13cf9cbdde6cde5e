/**
 * The resource types the emulated CloudFormation engine provisions. Imports
 * nothing, so `ncap validate --target local` can check a template offline
 * without loading the engine. Custom resources are any `Custom::<Name>` type
 * as well as AWS::CloudFormation::CustomResource.
 */
export const SUPPORTED_RESOURCE_TYPES: readonly string[] = [
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Role',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::AccessKey',
  'AWS::IAM::UserToGroupAddition',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Logs::LogGroup',
  'AWS::Events::Rule',
  'AWS::SecretsManager::Secret',
  'AWS::SSM::Parameter',
  'AWS::EC2::SecurityGroup',
  'AWS::CloudFormation::Stack',
  'AWS::CloudFormation::CustomResource',
]

const SUPPORTED = new Set(SUPPORTED_RESOURCE_TYPES)

/** Whether the emulator can provision a resource of this type. */
export function isSupportedResourceType(type: string): boolean {
  return SUPPORTED.has(type) || /^Custom::[A-Za-z0-9_@-]{1,60}$/.test(type)
}

/** The message the engine (and `ncap validate --target local`) gives for any other type. */
export const unsupportedTypeMessage = (type: string): string => `Resource type ${type} is not supported by the ncap emulator`
