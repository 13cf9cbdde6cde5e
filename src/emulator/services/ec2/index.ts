/**
 * The EC2 service (signing name `ec2`): images from the local registry, instances
 * that really run in the instance runtime's sandboxes, and the EC2 resources
 * scripts reach for. On start it reconciles instances left by a previous emulator.
 */
import type {InstanceRuntime} from '../../instances/types.js'
import type {Ec2Internal} from '../../internal.js'
import type {EmulatedService, RequestContext, ServiceEnvironment, ServiceFactory} from '../../types.js'
import {Ec2State} from './state.js'

export interface Ec2Options {
  /** The instance runtime; the real one (instances/index.ts) when not given. */
  runtime?: InstanceRuntime | (() => Promise<InstanceRuntime>)
}

/** The runtime is loaded on first boot (or on start's reconciliation), not with the service. */
async function loadRuntime(env: ServiceEnvironment): Promise<InstanceRuntime> {
  const {createInstanceRuntime} = await import('../../instances/index.js')
  return createInstanceRuntime({stateDir: env.stateDir, events: env.events, now: () => env.clock.now()})
}

export function createEc2Factory(options: Ec2Options = {}): ServiceFactory {
  return async (env) => {
    let runtime: Promise<InstanceRuntime> | undefined
    const getRuntime = () => {
      if (!runtime) {
        const given = options.runtime
        runtime = typeof given === 'function' ? given() : given ? Promise.resolve(given) : loadRuntime(env)
        runtime.catch(() => {
          runtime = undefined
        })
      }
      return runtime
    }
    const state = await Ec2State.open(env, getRuntime)
    let started: Promise<void> | undefined
    const start = () => {
      started ??= state.reconcile().then(
        (ended) => {
          if (ended > 0)
            env.events.record({
              service: 'ec2',
              kind: 'ec2.reconcile',
              outcome: 'info',
              summary: `${ended} instance(s) of the previous emulator run terminated: their processes ended with it`,
            })
        },
        (error: unknown) => {
          env.events.record({
            service: 'ec2',
            kind: 'ec2.reconcile',
            outcome: 'error',
            summary: 'reconciling instances after a restart failed',
            reason: error instanceof Error ? error.message : String(error),
          })
        },
      )
      return started
    }
    void start()
    // The wire (with the generated shapes) loads on the first request, not when start-up reconciles.
    let handler: Promise<{handle(ctx: RequestContext): Promise<void>}> | undefined
    const handlerOf = () => {
      handler ??= import('./handler.js').then(({Ec2Service}) => new Ec2Service(state, start))
      return handler
    }
    const internal: Ec2Internal = {
      describeInstance: (region, instanceId) => {
        const instance = state.instancesIn(region).find((i) => i.InstanceId === instanceId)
        return instance ? state.view(instance) : undefined
      },
      exec: (region, instanceId, command) => state.exec(region, instanceId, command),
    }
    const service: EmulatedService & {state: Ec2State} = {
      signingName: 'ec2',
      state,
      internal,
      handle: async (ctx) => (await handlerOf()).handle(ctx),
      start,
      close: () => state.close(),
    }
    return service
  }
}

const ec2Service: ServiceFactory = createEc2Factory()

export default ec2Service
