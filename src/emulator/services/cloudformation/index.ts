/** The CloudFormation service (signing name `cloudformation`): the engine over its durable state, behind the Query wire. */
import type {ServiceFactory} from '../../types.js'
import {Engine} from './engine.js'
import {CloudFormationService} from './handler.js'
import {CloudFormationState} from './state.js'

const cloudFormationService: ServiceFactory = async (env) =>
  new CloudFormationService(new Engine(env, await CloudFormationState.open(env.stateDir)))

export default cloudFormationService
