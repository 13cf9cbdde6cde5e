/**
 * The emulator's own control API (signing name `ncap`, JSON 1.1, target prefix
 * `NcapEmulator`): what no AWS service has, such as moving the emulator's clock.
 * Only the account's admin key may call it. `ncap emulator clock` speaks it.
 */
import {AwsError} from '../../errors.js'
import type {EmulatorEvent} from '../../event-record.js'
import {asAwsError, sendError} from '../../protocols/errors.js'
import {parseJsonRequest, sendJson} from '../../protocols/json.js'
import type {EmulatedService, RequestContext, ServiceEnvironment, ServiceFactory} from '../../types.js'

/** The operations served, by X-Amz-Target operation name. */
export const CONTROL_OPERATIONS = ['GetClock', 'AdvanceClock'] as const

class ControlService implements EmulatedService {
  readonly signingName = 'ncap'

  constructor(private readonly env: ServiceEnvironment) {}

  async handle(ctx: RequestContext): Promise<void> {
    try {
      if (ctx.principal.kind !== 'root') {
        throw new AwsError(
          'AccessDeniedException',
          `Only the account's admin key may control the emulator; ${ctx.principal.arn} may not.`,
          403,
        )
      }
      const {operation, input} = await parseJsonRequest(ctx)
      sendJson(ctx, await this.run(operation, input))
    } catch (error) {
      sendError(ctx, 'json', asAwsError(error))
    }
  }

  private async run(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const clock = this.env.clock
    switch (operation) {
      case 'GetClock':
        return {Now: new Date(clock.now()).toISOString(), OffsetMs: clock.offsetMs}
      case 'AdvanceClock': {
        const ms = input.Milliseconds
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
          throw new AwsError('ValidationException', `Milliseconds must be a non-negative number; got ${JSON.stringify(ms)}.`)
        }
        const seen: EmulatorEvent[] = []
        const unsubscribe = this.env.events.subscribe((event) => seen.push(event))
        let result: Awaited<ReturnType<typeof clock.advance>>
        try {
          result = await clock.advance(ms)
        } finally {
          unsubscribe()
        }
        this.env.events.record({
          service: 'ncap',
          kind: 'clock.advance',
          outcome: 'ok',
          summary: `clock advanced by ${ms} ms to ${new Date(result.now).toISOString()} (${result.fired} timers fired)`,
        })
        // What fired during the advance, so `ncap emulator clock advance` can say it.
        return {Now: new Date(result.now).toISOString(), OffsetMs: result.offsetMs, TimersFired: result.fired, Events: seen}
      }
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The emulator's control API has no operation ${operation}; it has ${CONTROL_OPERATIONS.join(', ')}.`,
        )
    }
  }
}

const controlService: ServiceFactory = (env) => new ControlService(env)

export default controlService
