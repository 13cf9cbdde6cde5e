/** Lambda entry point of the monitor function: job rules' EC2 and SSM events, and the schedule. */
import {makeClients} from '../lib/aws.js'
import {monitorSettingsSchema, readSettings} from '../lib/settings.js'
import {eventNow, type InstanceOutcome, monitor} from './monitor.js'

export async function handler(event: unknown): Promise<{instances: InstanceOutcome[]}> {
  const settings = readSettings(monitorSettingsSchema)
  const instances = await monitor(event, {settings, clients: makeClients(settings.REGION), now: eventNow(event)})
  for (const i of instances) if (i.changed.length > 0) console.log(JSON.stringify(i))
  return {instances}
}
