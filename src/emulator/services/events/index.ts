/** The EventBridge service (signing name `events`); its `internal` member is how EC2 and SSM publish their events. */
import type {ServiceFactory} from '../../types.js'
import {Bus} from './bus.js'
import {EventsService} from './handler.js'
import {EventsState} from './state.js'

const eventsService: ServiceFactory = async (env) => {
  const state = await EventsState.open(env.stateDir, env.clock)
  return new EventsService(state, new Bus(state, env), env)
}

export default eventsService
