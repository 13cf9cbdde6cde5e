/**
 * Which runtimes CreateFunction accepts, as AWS decides it today: each runtime's
 * dates of deprecation and of the block on creating and on updating functions,
 * from cfn-lint's data (cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json),
 * compared against the emulator's clock. Node runtimes run on the host's Node,
 * Python ones on the host's python3 (refused, naming it, when there is none).
 */
import {spawnSync} from 'node:child_process'
import {invalidParameter, validation} from './errors.js'

interface Lifecycle {
  createBlock: string
  updateBlock: string
  successor?: string
}

const LIFECYCLE: Record<string, Lifecycle> = {
  'nodejs16.x': {createBlock: '2026-06-01', updateBlock: '2026-07-01', successor: 'nodejs24.x'},
  'nodejs18.x': {createBlock: '2026-06-01', updateBlock: '2026-07-01', successor: 'nodejs24.x'},
  'nodejs20.x': {createBlock: '2026-06-01', updateBlock: '2026-07-01', successor: 'nodejs24.x'},
  'nodejs22.x': {createBlock: '2027-06-01', updateBlock: '2027-07-01', successor: 'nodejs24.x'},
  'nodejs24.x': {createBlock: '2028-06-01', updateBlock: '2028-07-01'},
  'python3.8': {createBlock: '2026-06-01', updateBlock: '2026-07-01', successor: 'python3.14'},
  'python3.9': {createBlock: '2026-06-01', updateBlock: '2026-07-01', successor: 'python3.14'},
  'python3.10': {createBlock: '2026-07-31', updateBlock: '2026-08-31', successor: 'python3.14'},
  'python3.11': {createBlock: '2026-07-31', updateBlock: '2026-08-31', successor: 'python3.14'},
  'python3.12': {createBlock: '2028-11-30', updateBlock: '2029-01-10', successor: 'python3.14'},
  'python3.13': {createBlock: '2029-07-31', updateBlock: '2029-08-31', successor: 'python3.14'},
  'python3.14': {createBlock: '2029-07-31', updateBlock: '2029-08-31'},
}

/** Runtimes of Lambda's model that this emulator cannot run at all (other languages, custom runtimes). */
const MODEL_RUNTIMES = [
  'nodejs',
  'nodejs4.3',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'nodejs16.x',
  'nodejs18.x',
  'nodejs20.x',
  'nodejs22.x',
  'nodejs24.x',
  'java8',
  'java8.al2',
  'java11',
  'java17',
  'java21',
  'java25',
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'python3.9',
  'python3.10',
  'python3.11',
  'python3.12',
  'python3.13',
  'python3.14',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet6',
  'dotnet8',
  'dotnet10',
  'nodejs4.3-edge',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'ruby3.2',
  'ruby3.3',
  'ruby3.4',
  'provided',
  'provided.al2',
  'provided.al2023',
]

let python: string | null | undefined
/** The host's python3 version ("Python 3.11.7"), or null when there is none. */
export function hostPython(): string | null {
  if (python === undefined) {
    const probe = spawnSync('python3', ['--version'], {encoding: 'utf8', timeout: 10_000})
    python = probe.status === 0 ? `${probe.stdout || probe.stderr}`.trim() : null
  }
  return python
}

/** Refuses a runtime AWS would refuse for `purpose` on the day `now`, or one this emulator cannot run. */
export function checkRuntime(runtime: unknown, now: number, purpose: 'create' | 'update'): string {
  if (typeof runtime !== 'string' || !MODEL_RUNTIMES.includes(runtime))
    throw validation('runtime', runtime, `Member must satisfy enum value set: [${MODEL_RUNTIMES.join(', ')}] or be a valid ARN`)
  const today = new Date(now).toISOString().slice(0, 10)
  const life = LIFECYCLE[runtime]
  const blocked = life ? (purpose === 'create' ? life.createBlock : life.updateBlock) <= today : /^(nodejs|python)/.test(runtime)
  if (blocked) {
    const successor = life?.successor ?? (runtime.startsWith('python') ? 'python3.14' : 'nodejs24.x')
    throw invalidParameter(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (${successor}) while creating or updating functions.`,
    )
  }
  if (!life) throw invalidParameter(`The ncap emulator runs Node.js and Python functions only; it cannot run the ${runtime} runtime.`)
  if (runtime.startsWith('python') && !hostPython())
    throw invalidParameter(`The ncap emulator cannot run ${runtime}: no python3 interpreter was found on this host's PATH.`)
  return runtime
}
