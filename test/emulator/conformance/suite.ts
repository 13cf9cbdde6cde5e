/**
 * Registers the conformance tests of one service from its botocore model: one
 * boto3 process runs the whole sequence before the tests, then every served
 * operation gets a test of its answers against the output shape and one of its
 * modeled errors, every unserved operation a test that it is refused cleanly,
 * and the coverage table is logged.
 */
import type {ExecutionContext, TestFn} from 'ava'
import {type Answer, type Call, type Drive, drive} from './drive.js'
import {type AlwaysReturned, coverageTable, inducibleErrors, loadModel, modeledErrors, outputProblems, type ServiceModel} from './model.js'

export interface Step extends Call {
  /** The error this call must fail with: a modeled error shape's name, or a wire code the model does not list. */
  expect?: string
}

export interface Suite {
  service: Call['service']
  /** Operations the emulator serves, as the model names them. */
  served: readonly string[]
  /** The sequence: each served operation succeeds at least once and fails with a modeled error where the model names one. */
  steps: readonly Step[]
  always?: AlwaysReturned
  /** Served operations whose modeled errors cannot be provoked here, with the reason. */
  uninducible?: Record<string, string>
  /** Served operations that can only answer with an error in this emulator's state, with the reason. */
  errorOnly?: Record<string, string>
  /** Unserved operations not probed, with the reason (boto3 cannot send them to a local endpoint). */
  unprobed?: Record<string, string>
  /** Inputs given to every probe of an unserved operation whose input has that member (an existing bucket, say). */
  probeInputs?: Record<string, unknown>
  /** A call made again before each probe (re-creating what an earlier probe may have destroyed). */
  probeSetUp?: Step
  /** A call that must still succeed after all probes. */
  alive: Step
  /** Error codes that count as a clear refusal of an unserved operation. */
  refusals: readonly string[]
  /** Prepares the state folder before the emulator starts (EC2 registers an image folder here). */
  prepare?: (stateDir: string) => Promise<void>
  /** Test titles expected to fail until a bug outside this helper's files is fixed, with the bug. */
  knownBugs?: Record<string, string>
}

export const probeId = (op: string) => `probe:${op}`

/** The title of an unserved operation's refusal test (for knownBugs). */
export const refusalTitle = (op: string) => `${op} (unserved): refused with a clear error`

export function conformanceSuite(test: TestFn, suite: Suite): void {
  const {model, reason} = loadModel(suite.service)
  if (!model) {
    test.skip(`${suite.service} conformance skipped: ${reason}`, () => {})
    return
  }
  const served = new Set(suite.served)
  const probes: Call[] = Object.keys(model.operations)
    .filter((op) => !served.has(op) && !suite.unprobed?.[op])
    .sort()
    .map((op) => ({id: probeId(op), service: suite.service, op, minimal: true, defaults: suite.probeInputs ?? {}}))
  const alive: Call = {...suite.alive, id: 'alive'}
  let run: Drive | undefined
  test.before(async () => {
    const setUp = suite.probeSetUp
    const probing = probes.flatMap((probe) => (setUp ? [{...setUp, id: `set-up:${probe.op}`}, probe] : [probe]))
    run = await drive([...suite.steps, ...probing, alive], {prepare: suite.prepare})
  })
  test.after.always(async () => {
    await run?.server.close()
  })
  const answer = (id: string): Answer => {
    const found = run?.answers.get(id)
    if (!found) throw new Error(`no answer for ${id}: the python driver stopped early.\n${run?.stderr ?? ''}`)
    return found
  }
  const register = (title: string, body: (t: ExecutionContext) => void) => {
    if (suite.knownBugs?.[title]) test.failing(title, body)
    else test(title, body)
  }

  test(`${suite.service}: every served operation is in the model and driven`, (t) => {
    for (const op of suite.served) {
      t.truthy(model.operations[op], `${op} is not an operation of botocore's ${suite.service} model`)
      t.true(
        Boolean(suite.errorOnly?.[op]) || suite.steps.some((step) => step.op === op && !step.expect),
        `${op} is served but no step calls it successfully`,
      )
      if (inducibleErrors(model, op).length > 0 && !suite.uninducible?.[op])
        t.true(
          suite.steps.some((step) => step.op === op && step.expect),
          `${op} has modeled errors but no step provokes one`,
        )
    }
  })

  const setUp = suite.steps.filter((step) => step.service !== suite.service)
  if (setUp.length > 0)
    test(`${suite.service}: calls to other services answer as expected`, (t) => {
      for (const step of setUp) {
        const got = answer(step.id)
        if (step.expect) t.is(got.code, step.expect, `${step.id}: ${got.crash ?? got.message}`)
        else t.true(got.ok, `${step.id}: ${got.crash ?? `${got.code}: ${got.message}`}`)
      }
    })

  for (const op of suite.served) {
    if (!suite.errorOnly?.[op])
      register(`${op}: answers match the output shape`, (t) => {
        for (const step of suite.steps.filter((s) => s.op === op && !s.expect)) {
          const got = answer(step.id)
          t.true(got.ok, `${step.id}: ${got.crash ?? `${got.code}: ${got.message}`}`)
          if (got.ok) t.deepEqual(outputProblems(model, op, got.response, suite.always), [], step.id)
        }
      })
    const errorSteps = suite.steps.filter((s) => s.op === op && s.expect)
    if (errorSteps.length === 0) continue
    register(`${op}: errors map to the model's error codes`, (t) => {
      for (const step of errorSteps) checkError(t, model, step, answer(step.id))
    })
  }

  for (const probe of probes)
    register(refusalTitle(probe.op), (t) => {
      const got = answer(probe.id)
      t.falsy(got.crash, got.crash)
      t.false(got.ok, `an unserved operation answered ${JSON.stringify(got.response)}`)
      t.true(suite.refusals.includes(got.code ?? ''), `${got.code} (${got.status}): ${got.message}`)
      t.true((got.status ?? 0) >= 400, `status ${got.status}`)
    })

  test(`${suite.service}: coverage table, and the emulator still answers after every probe`, (t) => {
    t.log(`\n${coverageTable(model, suite.service, served)}\n(boto3 sequence: ${run?.answers.size} calls in ${run?.millis} ms)`)
    t.true(answer('alive').ok, JSON.stringify(answer('alive')))
  })
}

function checkError(t: ExecutionContext, model: ServiceModel, step: Step, got: Answer): void {
  t.false(got.ok, `${step.id} succeeded; expected ${step.expect}`)
  t.falsy(got.crash, got.crash)
  const modeled = modeledErrors(model, step.op).find((error) => error.shape === step.expect || error.code === step.expect)
  if (!modeled) {
    t.is(got.code, step.expect, `${step.id}: ${got.message}`)
    return
  }
  // A HEAD answer has no body, so clients only see the status: boto3's code is then "404".
  const head = model.operations[step.op]?.http?.method === 'HEAD'
  t.is(got.code, head ? String(modeled.status) : modeled.code, `${step.id}: ${got.message}`)
  if (!head) t.is(got.exception, modeled.shape, `${step.id}: boto3 did not map ${got.code} to ${modeled.shape}`)
  if (modeled.status !== undefined) t.is(got.status, modeled.status, step.id)
}
