/**
 * The AWS managed policies ncap's templates attach, with the documents AWS
 * publishes for their default versions (AWS Managed Policy reference). They
 * exist in every account and cannot be changed or deleted.
 */
import type {ManagedPolicyRecord} from './model.js'

interface AwsManagedPolicy {
  path: string
  name: string
  id: string
  description: string
  created: string
  updated: string
  version: string
  document: object
}

const anyResource = (actions: string[]) => ({Effect: 'Allow', Action: actions, Resource: '*'})

const POLICIES: AwsManagedPolicy[] = [
  {
    path: '/',
    name: 'AmazonSSMManagedInstanceCore',
    id: 'ANPAIXSHM2BNB2D3AXXRU',
    description: 'The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.',
    created: '2019-03-15T17:22:12Z',
    updated: '2019-05-23T16:54:21Z',
    version: 'v2',
    document: {
      Version: '2012-10-17',
      Statement: [
        anyResource([
          'ssm:DescribeAssociation',
          'ssm:GetDeployablePatchSnapshotForInstance',
          'ssm:GetDocument',
          'ssm:DescribeDocument',
          'ssm:GetManifest',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:ListAssociations',
          'ssm:ListInstanceAssociations',
          'ssm:PutInventory',
          'ssm:PutComplianceItems',
          'ssm:PutConfigurePackageResult',
          'ssm:UpdateAssociationStatus',
          'ssm:UpdateInstanceAssociationStatus',
          'ssm:UpdateInstanceInformation',
        ]),
        anyResource([
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ]),
        anyResource([
          'ec2messages:AcknowledgeMessage',
          'ec2messages:DeleteMessage',
          'ec2messages:FailMessage',
          'ec2messages:GetEndpoint',
          'ec2messages:GetMessages',
          'ec2messages:SendReply',
        ]),
      ],
    },
  },
  {
    path: '/service-role/',
    name: 'AWSLambdaBasicExecutionRole',
    id: 'ANPAJNCQGXC42545SKXIK',
    description: 'Provides write permissions to CloudWatch Logs.',
    created: '2015-04-09T15:03:43Z',
    updated: '2015-04-09T15:03:43Z',
    version: 'v1',
    document: {Version: '2012-10-17', Statement: [anyResource(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])]},
  },
  {
    path: '/',
    name: 'AmazonS3ReadOnlyAccess',
    id: 'ANPAIZTJ4DXE7G6AGAE6M',
    description: 'Provides read only access to all buckets via the AWS Management Console.',
    created: '2015-02-06T18:40:58Z',
    updated: '2023-08-10T21:31:39Z',
    version: 'v3',
    document: {
      Version: '2012-10-17',
      Statement: [anyResource(['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'])],
    },
  },
]

/** AWS managed policies by ARN, in the same record shape as customer managed ones. */
export const AWS_MANAGED_POLICIES: ReadonlyMap<string, ManagedPolicyRecord> = new Map(
  POLICIES.map((policy) => {
    const arn = `arn:aws:iam::aws:policy${policy.path}${policy.name}`
    const record: ManagedPolicyRecord = {
      PolicyName: policy.name,
      PolicyId: policy.id,
      Arn: arn,
      Path: policy.path,
      Description: policy.description,
      CreateDate: policy.created,
      UpdateDate: policy.updated,
      DefaultVersionId: policy.version,
      Versions: [{VersionId: policy.version, Document: JSON.stringify(policy.document), CreateDate: policy.updated}],
      NextVersion: Number(policy.version.slice(1)) + 1,
    }
    return [arn, record]
  }),
)
