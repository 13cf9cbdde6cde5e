/** Lambda entry point of the monitor function: job rules' EC2 and SSM events, and the schedule. */
// Every run reads S3, EC2 and SSM, and a job's last one EventBridge: loaded at init (outside the handler,
// as AWS advises), so a warm or pre-warmed execution environment pays for them once.
import '@aws-sdk/client-s3'
import '@aws-sdk/client-ec2'
import '@aws-sdk/client-ssm'
import '@aws-sdk/client-eventbridge'
import {type Clients, makeClients} from '../lib/aws.js'
import {monitorSettingsSchema, readSettings} from '../lib/settings.js'
import {eventNow, type InstanceOutcome, monitor} from './monitor.js'

/** Kept across invocations of one execution environment: its clients' connections are reused. */
let clients: Clients | undefined

export async function handler(event: unknown): Promise<{instances: InstanceOutcome[]}> {
  const settings = readSettings(monitorSettingsSchema)
  if (clients?.region !== settings.REGION) clients = makeClients(settings.REGION)
  const instances = await monitor(event, {settings, clients, now: eventNow(event)})
  for (const i of instances) if (i.changed.length > 0) console.log(JSON.stringify(i))
  return {instances}
}
