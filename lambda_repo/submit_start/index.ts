/** Lambda entry point of the submit function: S3 notifications of `*submit.json` uploads. */
import {makeClients} from '../lib/aws.js'
import {uploadsOf} from '../lib/s3-event.js'
import {readSettings, submitSettingsSchema} from '../lib/settings.js'
import {handleUpload, type Outcome} from './submit.js'

interface LambdaContext {
  getRemainingTimeInMillis?: () => number
}

export async function handler(event: unknown, context?: LambdaContext): Promise<{jobs: Outcome[]}> {
  const settings = readSettings(submitSettingsSchema)
  const clients = makeClients(settings.REGION)
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
