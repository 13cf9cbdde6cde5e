/** The server's life: lazy services made once, in-flight requests finished on close, handler failures answered. */
import {setTimeout as sleep} from 'node:timers/promises'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {sendQueryResult} from '../../../src/emulator/protocols/query.js'
import type {ServiceFactory} from '../../../src/emulator/types.js'
import {credentials, startTestServer} from './fixtures.js'

test('a service is made on first use, once; close() lets in-flight requests finish, then closes services', async (t) => {
  let made = 0
  let closed = false
  let handled = 0
  let secondArrived: () => void = () => {}
  const arrived = new Promise<void>((done) => {
    secondArrived = done
  })
  const slow: ServiceFactory = () => {
    made++
    return {
      signingName: 'sts',
      async handle(ctx) {
        if (++handled === 2) secondArrived()
        await sleep(300)
        sendQueryResult(ctx, 'GetCallerIdentity', {Account: '000000000000', Arn: ctx.principal.arn, UserId: ctx.principal.userId})
      },
      async close() {
        closed = true
      },
    }
  }
  const server = await startTestServer({services: {sts: slow}})
  t.is(made, 0)
  const sts = new STSClient({endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1})
  await sts.send(new GetCallerIdentityCommand({}))
  const pending = sts.send(new GetCallerIdentityCommand({}))
  // Close once the second request is in its handler (a fixed sleep could close before it even arrives on a loaded machine).
  await arrived
  const closing = server.close()
  const answer = await pending
  t.is(answer.Account, '000000000000')
  await closing
  t.is(made, 1)
  t.true(closed)
  const error = await t.throwsAsync(fetch(server.endpoint))
  t.truthy(error)
})

test('a handler that throws a non-AWS error answers 500 InternalError in its protocol and is logged', async (t) => {
  const lines: string[] = []
  const broken: ServiceFactory = () => ({
    signingName: 'sts',
    async handle() {
      throw new TypeError('boom in the handler')
    },
  })
  const silent: ServiceFactory = () => ({signingName: 'iam', async handle() {}})
  const server = await startTestServer({services: {sts: broken}, log: (line) => lines.push(line)})
  t.teardown(() => server.close())
  const sts = new STSClient({endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1})
  const error = (await t.throwsAsync(sts.send(new GetCallerIdentityCommand({})))) as Error & {$metadata: {httpStatusCode: number}}
  t.is(error.name, 'InternalError')
  t.is(error.$metadata.httpStatusCode, 500)
  t.regex(error.message, /boom in the handler/)
  t.true(lines.some((line) => line.includes('boom in the handler')))

  const quiet = await startTestServer({services: {sts: silent}})
  t.teardown(() => quiet.close())
  const unanswered = await t.throwsAsync(
    new STSClient({endpoint: quiet.endpoint, region: 'us-east-1', credentials, maxAttempts: 1}).send(new GetCallerIdentityCommand({})),
  )
  t.regex(unanswered?.message ?? '', /finished without answering/)
})
