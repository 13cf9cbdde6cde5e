/**
 * The IAM service (signing name `iam`) and the account's Identity. One IamState
 * per state folder is shared by the IAM and STS services and by the server
 * core's credential resolution and authorization, so a key created through
 * IAM signs the very next request.
 */
import {resolve} from 'node:path'
import type {IdentityFactory, ServiceFactory} from '../../types.js'
import {IamService} from './handler.js'
import {IamIdentity} from './identity.js'
import {IamState} from './state.js'

const opened = new Map<string, Promise<SharedIdentity>>()

/** The Identity the core holds; closing it flushes the state and lets a later open reload it from disk. */
export class SharedIdentity extends IamIdentity {
  constructor(
    state: IamState,
    private readonly release: () => void,
  ) {
    super(state)
  }

  async close(): Promise<void> {
    this.release()
    await this.state.flush()
  }
}

/** The account identity for a state folder, opened (and loaded from `${stateDir}/iam/state.json`) once. */
export function identityFor(stateDir: string): Promise<SharedIdentity> {
  const key = resolve(stateDir)
  let identity = opened.get(key)
  if (!identity) {
    const made: Promise<SharedIdentity> = IamState.open(key).then(
      (state) =>
        new SharedIdentity(state, () => {
          if (opened.get(key) === made) opened.delete(key)
        }),
    )
    identity = made
    opened.set(key, made)
    made.catch(() => opened.delete(key))
  }
  return identity
}

export const openIdentity: IdentityFactory = (stateDir) => identityFor(stateDir)

const iamService: ServiceFactory = async (env) => new IamService(await identityFor(env.stateDir))

export default iamService
