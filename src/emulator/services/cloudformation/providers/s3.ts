/**
 * AWS::S3::Bucket and AWS::S3::BucketPolicy over the emulated S3. A bucket's
 * name change replaces it; everything else is applied in place. Deleting a
 * bucket that still holds objects fails as on AWS (BucketNotEmpty).
 */
import {sdk as sdks} from './clients.js'
import {type Attributes, json, type ProvisionContext, ProvisionError, type ResourceProvider, tagList} from './types.js'

type Props = Record<string, unknown>

function bucketAttributes(name: string, region: string): Attributes {
  return {
    Arn: `arn:aws:s3:::${name}`,
    DomainName: `${name}.s3.amazonaws.com`,
    DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
    RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
    WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
  }
}

function notificationOf(config: Props | undefined) {
  const filter = (entry: Props) => {
    const rules = ((entry.Filter as Props | undefined)?.S3Key as Props | undefined)?.Rules as Props[] | undefined
    return rules ? {Key: {FilterRules: rules.map((r) => ({Name: String(r.Name) as 'prefix', Value: String(r.Value)}))}} : undefined
  }
  const events = (entry: Props) => [String(entry.Event)] as never[]
  return {
    LambdaFunctionConfigurations: ((config?.LambdaConfigurations as Props[] | undefined) ?? []).map((entry) => ({
      LambdaFunctionArn: String(entry.Function),
      Events: events(entry),
      Filter: filter(entry),
    })),
    QueueConfigurations: ((config?.QueueConfigurations as Props[] | undefined) ?? []).map((entry) => ({
      QueueArn: String(entry.Queue),
      Events: events(entry),
      Filter: filter(entry),
    })),
    TopicConfigurations: ((config?.TopicConfigurations as Props[] | undefined) ?? []).map((entry) => ({
      TopicArn: String(entry.Topic),
      Events: events(entry),
      Filter: filter(entry),
    })),
    ...(config?.EventBridgeConfiguration ? {EventBridgeConfiguration: {}} : {}),
  }
}

const SERVED_BUCKET_PROPERTIES = new Set([
  'BucketName',
  'PublicAccessBlockConfiguration',
  'BucketEncryption',
  'VersioningConfiguration',
  'NotificationConfiguration',
  'OwnershipControls',
  'Tags',
])

async function configure(ctx: ProvisionContext, name: string, props: Props, old: Props | undefined): Promise<void> {
  const s3 = await ctx.clients.s3()
  const sdk = await sdks.s3()
  const changed = (key: string) => old === undefined || JSON.stringify(props[key]) !== JSON.stringify(old[key])
  if (changed('PublicAccessBlockConfiguration')) {
    const block = props.PublicAccessBlockConfiguration as Props | undefined
    if (block) {
      await s3.send(
        new sdk.PutPublicAccessBlockCommand({
          Bucket: name,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: block.BlockPublicAcls === true || block.BlockPublicAcls === 'true',
            BlockPublicPolicy: block.BlockPublicPolicy === true || block.BlockPublicPolicy === 'true',
            IgnorePublicAcls: block.IgnorePublicAcls === true || block.IgnorePublicAcls === 'true',
            RestrictPublicBuckets: block.RestrictPublicBuckets === true || block.RestrictPublicBuckets === 'true',
          },
        }),
      )
    } else if (old) await s3.send(new sdk.DeletePublicAccessBlockCommand({Bucket: name}))
  }
  if (changed('BucketEncryption')) {
    const rules = (props.BucketEncryption as Props | undefined)?.ServerSideEncryptionConfiguration as Props[] | undefined
    if (rules) {
      await s3.send(
        new sdk.PutBucketEncryptionCommand({
          Bucket: name,
          ServerSideEncryptionConfiguration: {
            Rules: rules.map((rule) => {
              const byDefault = rule.ServerSideEncryptionByDefault as Props | undefined
              return {
                ApplyServerSideEncryptionByDefault: byDefault
                  ? {
                      SSEAlgorithm: String(byDefault.SSEAlgorithm) as 'AES256',
                      ...(byDefault.KMSMasterKeyID ? {KMSMasterKeyID: String(byDefault.KMSMasterKeyID)} : {}),
                    }
                  : undefined,
                ...(rule.BucketKeyEnabled !== undefined
                  ? {BucketKeyEnabled: rule.BucketKeyEnabled === true || rule.BucketKeyEnabled === 'true'}
                  : {}),
              }
            }),
          },
        }),
      )
    } else if (old) await s3.send(new sdk.DeleteBucketEncryptionCommand({Bucket: name}))
  }
  if (changed('VersioningConfiguration')) {
    const status = (props.VersioningConfiguration as Props | undefined)?.Status
    if (status !== undefined || old) {
      await s3.send(
        new sdk.PutBucketVersioningCommand({
          Bucket: name,
          VersioningConfiguration: {Status: (status === undefined ? 'Suspended' : String(status)) as 'Enabled'},
        }),
      )
    }
  }
  if (changed('Tags')) {
    const tags = tagList(props.Tags)
    if (tags?.length) await s3.send(new sdk.PutBucketTaggingCommand({Bucket: name, Tagging: {TagSet: tags}}))
    else if (old) await s3.send(new sdk.DeleteBucketTaggingCommand({Bucket: name}))
  }
  if (changed('NotificationConfiguration') && (props.NotificationConfiguration || old)) {
    await s3.send(
      new sdk.PutBucketNotificationConfigurationCommand({
        Bucket: name,
        NotificationConfiguration: notificationOf(props.NotificationConfiguration as Props | undefined) as never,
      }),
    )
  }
}

function checkServed(props: Props): void {
  const unserved = Object.keys(props).filter((key) => !SERVED_BUCKET_PROPERTIES.has(key))
  if (unserved.length > 0) {
    throw new ProvisionError(`AWS::S3::Bucket properties [${unserved.join(', ')}] are not supported by the ncap emulator's S3`)
  }
  const rules = (props.OwnershipControls as Props | undefined)?.Rules as Props[] | undefined
  // The emulated S3 keeps no ACLs: its buckets are BucketOwnerEnforced, AWS's default for new buckets.
  if (rules?.some((rule) => rule.ObjectOwnership !== 'BucketOwnerEnforced')) {
    throw new ProvisionError(
      'OwnershipControls other than BucketOwnerEnforced are not supported by the ncap emulator (its S3 keeps no ACLs)',
    )
  }
}

export const bucket: ResourceProvider = {
  replacement: {BucketName: 'Always', ObjectLockEnabled: 'Always'},
  attributes: ['Arn', 'DomainName', 'DualStackDomainName', 'RegionalDomainName', 'WebsiteURL'],
  async create(ctx, props) {
    checkServed(props)
    const name = props.BucketName === undefined ? ctx.generateName({max: 63, lowercase: true}) : String(props.BucketName)
    const s3 = await ctx.clients.s3()
    const {CreateBucketCommand} = await sdks.s3()
    await s3.send(
      new CreateBucketCommand({
        Bucket: name,
        ...(ctx.region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: ctx.region as never}}),
      }),
    )
    try {
      await configure(ctx, name, props, undefined)
    } catch (error) {
      // A half-configured bucket is not left behind: CloudFormation would not know it exists.
      const {DeleteBucketCommand} = await sdks.s3()
      await s3.send(new DeleteBucketCommand({Bucket: name})).catch(() => undefined)
      throw error
    }
    return {physicalId: name, attributes: bucketAttributes(name, ctx.region)}
  },
  async update(ctx, props, old) {
    checkServed(props)
    const name = ctx.physicalId!
    await configure(ctx, name, props, old)
    return {physicalId: name, attributes: bucketAttributes(name, ctx.region)}
  },
  async delete(ctx, physicalId) {
    const s3 = await ctx.clients.s3()
    const {DeleteBucketCommand} = await sdks.s3()
    await s3.send(new DeleteBucketCommand({Bucket: physicalId}))
  },
}

export const bucketPolicy: ResourceProvider = {
  replacement: {Bucket: 'Always'},
  required: ['Bucket', 'PolicyDocument'],
  attributes: [],
  async create(ctx, props) {
    const s3 = await ctx.clients.s3()
    const {PutBucketPolicyCommand} = await sdks.s3()
    await s3.send(new PutBucketPolicyCommand({Bucket: String(props.Bucket), Policy: json(props.PolicyDocument)}))
    return {physicalId: ctx.generateName({max: 128})}
  },
  async update(ctx, props) {
    const s3 = await ctx.clients.s3()
    const {PutBucketPolicyCommand} = await sdks.s3()
    await s3.send(new PutBucketPolicyCommand({Bucket: String(props.Bucket), Policy: json(props.PolicyDocument)}))
    return {physicalId: ctx.physicalId!}
  },
  async delete(ctx, _physicalId, props) {
    const s3 = await ctx.clients.s3()
    const {DeleteBucketPolicyCommand} = await sdks.s3()
    await s3.send(new DeleteBucketPolicyCommand({Bucket: String(props.Bucket)}))
  },
}
