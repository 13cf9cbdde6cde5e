/**
 * AWS::EC2::SecurityGroup over the emulated EC2: name, description and VPC
 * replace; ingress and egress rules are revoked and authorized in place.
 */
import {sdk as sdks} from './clients.js'
import {isNotFound, type ProvisionContext, type ResourceProvider, str, tagList} from './types.js'

type Props = Record<string, unknown>

const permissionOf = (rule: Props) => ({
  IpProtocol: String(rule.IpProtocol),
  FromPort: rule.FromPort === undefined ? undefined : Number(rule.FromPort),
  ToPort: rule.ToPort === undefined ? undefined : Number(rule.ToPort),
  IpRanges: rule.CidrIp ? [{CidrIp: String(rule.CidrIp), Description: str(rule.Description)}] : undefined,
  Ipv6Ranges: rule.CidrIpv6 ? [{CidrIpv6: String(rule.CidrIpv6), Description: str(rule.Description)}] : undefined,
  UserIdGroupPairs:
    rule.SourceSecurityGroupId || rule.DestinationSecurityGroupId
      ? [{GroupId: String(rule.SourceSecurityGroupId ?? rule.DestinationSecurityGroupId), Description: str(rule.Description)}]
      : undefined,
  PrefixListIds:
    rule.SourcePrefixListId || rule.DestinationPrefixListId
      ? [{PrefixListId: String(rule.SourcePrefixListId ?? rule.DestinationPrefixListId)}]
      : undefined,
})

const rules = (value: unknown) => (Array.isArray(value) ? (value as Props[]).map(permissionOf) : [])
const ALL_EGRESS = {IpProtocol: '-1', IpRanges: [{CidrIp: '0.0.0.0/0'}]}

async function syncRules(ctx: ProvisionContext, groupId: string, props: Props, old: Props | undefined): Promise<void> {
  const ec2 = await ctx.clients.ec2()
  const sdk = await sdks.ec2()
  const ingress = rules(props.SecurityGroupIngress)
  const oldIngress = old ? rules(old.SecurityGroupIngress) : []
  if (JSON.stringify(ingress) !== JSON.stringify(oldIngress)) {
    if (oldIngress.length > 0)
      await ec2.send(new sdk.RevokeSecurityGroupIngressCommand({GroupId: groupId, IpPermissions: oldIngress as never}))
    if (ingress.length > 0)
      await ec2.send(new sdk.AuthorizeSecurityGroupIngressCommand({GroupId: groupId, IpPermissions: ingress as never}))
  }
  if (props.VpcId === undefined) return
  // A VPC group starts with allow-all egress; declared egress rules replace it.
  const egress = props.SecurityGroupEgress === undefined ? [ALL_EGRESS] : rules(props.SecurityGroupEgress)
  const oldEgress = old === undefined || old.SecurityGroupEgress === undefined ? [ALL_EGRESS] : rules(old.SecurityGroupEgress)
  if (JSON.stringify(egress) !== JSON.stringify(oldEgress)) {
    await ec2.send(new sdk.RevokeSecurityGroupEgressCommand({GroupId: groupId, IpPermissions: oldEgress as never}))
    if (egress.length > 0) await ec2.send(new sdk.AuthorizeSecurityGroupEgressCommand({GroupId: groupId, IpPermissions: egress as never}))
  }
}

export const securityGroup: ResourceProvider = {
  replacement: {GroupName: 'Always', GroupDescription: 'Always', VpcId: 'Always'},
  required: ['GroupDescription'],
  attributes: ['GroupId', 'VpcId'],
  async create(ctx, props) {
    const ec2 = await ctx.clients.ec2()
    const {CreateSecurityGroupCommand, DescribeSecurityGroupsCommand} = await sdks.ec2()
    const name = str(props.GroupName) ?? ctx.generateName({max: 255})
    const tags = tagList(props.Tags)
    const made = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: String(props.GroupDescription),
        VpcId: str(props.VpcId),
        TagSpecifications: tags?.length ? [{ResourceType: 'security-group', Tags: tags}] : undefined,
      }),
    )
    const groupId = made.GroupId!
    await syncRules(ctx, groupId, props, undefined)
    const described = await ec2.send(new DescribeSecurityGroupsCommand({GroupIds: [groupId]}))
    const vpcId = described.SecurityGroups?.[0]?.VpcId ?? str(props.VpcId) ?? ''
    return {physicalId: groupId, ref: props.VpcId === undefined ? name : groupId, attributes: {GroupId: groupId, VpcId: vpcId}}
  },
  async update(ctx, props, old) {
    await syncRules(ctx, ctx.physicalId!, props, old)
    return {physicalId: ctx.physicalId!, attributes: ctx.attributes}
  },
  async delete(ctx, groupId) {
    const ec2 = await ctx.clients.ec2()
    const {DeleteSecurityGroupCommand} = await sdks.ec2()
    await ec2.send(new DeleteSecurityGroupCommand({GroupId: groupId})).catch((error) => {
      if (!isNotFound(error)) throw error
    })
  },
}
