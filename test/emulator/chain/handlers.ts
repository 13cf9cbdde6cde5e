/** The two functions of the chain: the submit function launches an instance and sends it the job; the watcher records state changes. */
export const SUBMIT = `
import {EC2Client, RunInstancesCommand, DescribeInstancesCommand} from '@aws-sdk/client-ec2'
import {SSMClient, SendCommandCommand} from '@aws-sdk/client-ssm'
export const handler = async (event) => {
  const record = event.Records[0]
  const bucket = record.s3.bucket.name
  const key = decodeURIComponent(record.s3.object.key.replace(/\\+/g, ' '))
  const ec2 = new EC2Client({})
  const ssm = new SSMClient({})
  const run = await ec2.send(new RunInstancesCommand({
    ImageId: process.env.AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro',
    IamInstanceProfile: {Name: process.env.PROFILE}, InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'job', Value: key}]}],
  }))
  const id = run.Instances[0].InstanceId
  for (let i = 0; i < 400; i++) {
    const d = await ec2.send(new DescribeInstancesCommand({InstanceIds: [id]}))
    if (d.Reservations[0].Instances[0].State.Name === 'running') break
    await new Promise((r) => setTimeout(r, 50))
  }
  const sent = await ssm.send(new SendCommandCommand({
    DocumentName: 'AWS-RunShellScript', InstanceIds: [id],
    Parameters: {commands: [
      'cd /home/ubuntu',
      'bin/run.sh "' + bucket + '" "' + key + '" > /tmp/result.txt',
      'aws s3 cp /tmp/result.txt "s3://' + bucket + '/results/' + key + '.txt"',
      'sudo poweroff',
    ], workingDirectory: ['/home/ubuntu']},
  }))
  console.log('launched ' + id + ' command ' + sent.Command.CommandId)
  return {instanceId: id, commandId: sent.Command.CommandId}
}
`

export const WATCH = `
import {S3Client, PutObjectCommand} from '@aws-sdk/client-s3'
export const handler = async (event) => {
  const s3 = new S3Client({forcePathStyle: true})
  const {'instance-id': id, state} = event.detail
  await s3.send(new PutObjectCommand({Bucket: process.env.BUCKET, Key: 'states/' + id + '/' + state, Body: JSON.stringify(event)}))
  return {id, state}
}
`
