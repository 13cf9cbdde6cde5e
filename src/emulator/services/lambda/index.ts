/**
 * The Lambda service (signing name `lambda`), state under `${stateDir}/lambda/`.
 * Loaded only when a request names it, another service reaches it through
 * `env.internal('lambda')`, or its state folder exists at start-up (then after
 * the server's first answer, to resume queued asynchronous invocations).
 * The runtime reusable outside the emulator is runtime.ts's `runInvocation`.
 */
import type {ServiceFactory} from '../../types.js'
import {LambdaHandler} from './handler.js'
import {LambdaService} from './service.js'
import {LambdaState} from './state.js'

const createLambda: ServiceFactory = async (env) => new LambdaHandler(new LambdaService(env, await LambdaState.open(env.stateDir)))

export default createLambda
