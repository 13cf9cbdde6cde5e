// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
/** Hand-written templates for the linter and graph tests. */

// biome-ignore lint/suspicious/noExplicitAny: templates are free-form JSON that tests mutate
export type Json = any

/** A template that uses every reference form correctly: zero diagnostics expected. */
export function cleanTemplate(): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'hand-written clean template',
    Parameters: {AssetsBucket: {Type: 'String'}, Stage: {Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod']}},
    Conditions: {IsProd: {'Fn::Equals': [{Ref: 'Stage'}, 'prod']}, NotProd: {'Fn::Not': [{Condition: 'IsProd'}]}},
    Resources: {
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {BucketName: {'Fn::Sub': 'ncap-${AWS::AccountId}-data'}, Tags: [{Key: 'pipeline', Value: 'demo'}]},
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
          },
          Policies: [
            {
              PolicyName: 'bucket',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {Effect: 'Allow', Action: 's3:GetObject', Resource: {'Fn::Sub': '${Bucket.Arn}/*'}},
                  {
                    Effect: 'Allow',
                    Action: 's3:ListBucket',
                    Resource: {'Fn::GetAtt': 'Bucket.Arn'},
                    Condition: {StringLike: {'s3:prefix': ['g/*']}},
                  },
                ],
              },
            },
          ],
        },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Role: {'Fn::GetAtt': ['Role', 'Arn']},
          Code: {S3Bucket: {Ref: 'AssetsBucket'}, S3Key: 'submit.zip'},
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          Environment: {Variables: {BUCKET: {Ref: 'Bucket'}, LITERAL: {'Fn::Sub': '${!NotAVariable}'}}},
        },
      },
      User: {
        Type: 'AWS::IAM::User',
        Properties: {
          LoginProfile: {Password: '{{resolve:secretsmanager:demo-password:SecretString:password}}', PasswordResetRequired: true},
        },
      },
      Key: {Type: 'AWS::IAM::AccessKey', Properties: {UserName: {Ref: 'User'}}},
      KeySecret: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          SecretString: {
            'Fn::Sub': [
              '{"accessKeyId":"${Key}","secretAccessKey":"${Key.SecretAccessKey}","fn":"${FunctionArn}"}',
              {FunctionArn: {'Fn::GetAtt': 'Function.Arn'}},
            ],
          },
        },
      },
      Folders: {
        Type: 'Custom::Folders',
        DependsOn: ['Bucket'],
        Properties: {ServiceToken: {'Fn::GetAtt': ['Function', 'Arn']}, Groups: ['a', 'b']},
      },
      ProdTopic: {Type: 'AWS::SNS::Topic', Condition: 'IsProd'},
    },
    Outputs: {
      BucketName: {Value: {Ref: 'Bucket'}},
      FolderCount: {Value: {'Fn::GetAtt': ['Folders', 'Count']}},
      KeySecretArn: {Value: {Ref: 'KeySecret'}, Export: {Name: {'Fn::Sub': '${AWS::StackName}-KeySecretArn'}}},
      Topic: {Condition: 'IsProd', Value: {'Fn::If': ['IsProd', {Ref: 'ProdTopic'}, {Ref: 'AWS::NoValue'}]}},
    },
  }
}

/** A parent with one nested stack, and the nested template (keyed by its relative TemplateURL). */
export function nestedPair(): {main: Json; nested: Record<string, Json>} {
  const main = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Bucket: {Type: 'AWS::S3::Bucket'},
      Identity1: {
        Type: 'AWS::CloudFormation::Stack',
        Properties: {TemplateURL: 'compiled_nested/Identity1.json', Parameters: {BucketName: {Ref: 'Bucket'}, GroupName: 'lab'}},
      },
    },
    Outputs: {
      SecretArn: {Value: {'Fn::GetAtt': ['Identity1', 'Outputs.SecretArn']}},
      StackId: {Value: {'Fn::GetAtt': ['Identity1', 'StackId']}},
    },
  }
  const nested = {
    AWSTemplateFormatVersion: '2010-09-09',
    Parameters: {BucketName: {Type: 'String'}, GroupName: {Type: 'String'}, Retention: {Type: 'Number', Default: 14}},
    Resources: {
      Secret: {Type: 'AWS::SecretsManager::Secret', Properties: {Description: {'Fn::Sub': 'keys for ${GroupName} in ${BucketName}'}}},
    },
    Outputs: {SecretArn: {Value: {Ref: 'Secret'}}},
  }
  return {main, nested: {'compiled_nested/Identity1.json': nested}}
}
