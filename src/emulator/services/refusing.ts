/**
 * A service the emulator names but does not serve yet: every request is refused
 * in the service's own protocol, naming the service, so a client sees a clear
 * error instead of a wrong answer.
 */
import {AwsError} from '../errors.js'
import {protocolOf, sendError} from '../protocols/errors.js'
import type {EmulatedService, RequestContext, ServiceFactory} from '../types.js'

export function refusingService(signingName: string): ServiceFactory {
  return (): EmulatedService => ({
    signingName,
    async handle(ctx: RequestContext) {
      ctx.req.resume()
      sendError(ctx, protocolOf(signingName), new AwsError('NotImplemented', `The ncap emulator does not serve ${signingName} yet.`, 501))
    },
  })
}
