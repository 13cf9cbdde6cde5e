/**
 * `ncap cancel`: users have no EC2 rights, so a job is cancelled the way the
 * protocol allows: a cancel request uploaded into the group's submissions/,
 * which the submit handler answers by terminating the job's instances.
 */
import {actAs, deniedAs, type JobContext, type JobFlags} from './context.js'
import type {JobView} from './read.js'
import {newTimestamp} from './submit.js'

export async function requestCancel(ctx: JobContext, view: JobView, flags: JobFlags): Promise<{key: string; as: string}> {
  const group = ctx.pipeline.groups.find((g) => g.name === view.group)!
  const actor = await actAs(ctx, group, flags)
  const key = `${view.group}/submissions/cancel_${newTimestamp()}_submit.json`
  const {PutObjectCommand} = await import('@aws-sdk/client-s3')
  await actor.s3
    .send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: key,
        Body: `${JSON.stringify({cancel: view.jobId})}\n`,
        ContentType: 'application/json',
      }),
    )
    .catch((error) => {
      throw deniedAs(error, actor, `cancel jobs of group ${view.group}`)
    })
  return {key, as: actor.label}
}
