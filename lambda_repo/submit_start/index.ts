/** Lambda entry point of the submit function: S3 notifications of `*submit.json` uploads. */
// The SDK clients a launch uses, loaded at init (as AWS advises: outside the handler), so a warm or
// pre-warmed execution environment pays for them once and a job's first submit does not.
import '@aws-sdk/client-s3'
import '@aws-sdk/client-ec2'
import '@aws-sdk/client-ssm'
import '@aws-sdk/client-eventbridge'
import {type Clients, makeClients} from '../lib/aws.js'
import {uploadsOf} from '../lib/s3-event.js'
import {readSettings, submitSettingsSchema} from '../lib/settings.js'
import {handleUpload, type Outcome} from './submit.js'

interface LambdaContext {
  getRemainingTimeInMillis?: () => number
}

/** Kept across invocations of one execution environment: its clients' connections are reused. */
let clients: Clients | undefined

export async function handler(event: unknown, context?: LambdaContext): Promise<{jobs: Outcome[]}> {
  const settings = readSettings(submitSettingsSchema)
  if (clients?.region !== settings.REGION) clients = makeClients(settings.REGION)
  const started = Date.now()
  const remainingMs = () => context?.getRemainingTimeInMillis?.() ?? settings.EXECUTION_TIMEOUT * 1000 - (Date.now() - started)
  const jobs: Outcome[] = []
  for (const upload of uploadsOf(event)) {
    const outcome = await handleUpload(upload, {settings, clients, remainingMs})
    console.log(JSON.stringify(outcome))
    jobs.push(outcome)
  }
  return {jobs}
}
