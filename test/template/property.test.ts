import test from 'ava'
import fc from 'fast-check'
import type {Group, Pipeline, User} from '../../src/config/model.js'
import {compilePipeline, serializeTemplate} from '../../src/template/index.js'
import {cfnLint, unexpected, writeToTemp} from './cfn-lint.js'
import {seedPipeline} from './pipelines.js'

const RUNS = 25

/** S3 bucket names: 3-63 of [a-z0-9.-], labels of letters and digits joined by single dots or dashes. */
const bucketName = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/),
    fc.array(fc.tuple(fc.constantFrom('-', '.'), fc.stringMatching(/^[a-z0-9]{1,12}$/)), {maxLength: 5}),
  )
  .map(([head, rest]) => (head + rest.map(([sep, label]) => sep + label).join('')).slice(0, 63).replace(/[.-]+$/, ''))
  .filter((name) => name.length >= 3)

/** IAM names: letters, digits and +=,.@_- */
const iamName = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9+=,.@_-]{1,${max}}$`))

const pipelineArbitrary: fc.Arbitrary<Pipeline> = fc
  .record({
    name: bucketName,
    groupNames: fc.uniqueArray(iamName(24), {minLength: 1, maxLength: 5, selector: (n) => n.toLowerCase()}),
    userNames: fc.uniqueArray(iamName(32), {minLength: 1, maxLength: 10, selector: (n) => n.toLowerCase()}),
    memberships: fc.array(fc.array(fc.nat(), {minLength: 1, maxLength: 3}), {minLength: 10, maxLength: 10}),
    existing: fc.array(fc.boolean(), {minLength: 10, maxLength: 10}),
    chained: fc.array(fc.boolean(), {minLength: 5, maxLength: 5}),
    post: fc.option(
      fc.record({trigger: fc.option(fc.stringMatching(/^[a-z]{1,8}\.(txt|json|csv)$/), {nil: undefined}), hasCode: fc.boolean()}),
      {nil: undefined},
    ),
    custom: fc.boolean(),
    iamRole: fc.option(iamName(20), {nil: undefined}),
    securityGroups: fc.array(fc.stringMatching(/^sg-[0-9a-f]{17}$/), {maxLength: 2}),
    keyName: fc.option(fc.stringMatching(/^[a-z0-9_-]{1,20}$/), {nil: undefined}),
    monitor: fc.boolean(),
    launch: fc.boolean(),
    executionTimeout: fc.integer({min: 1, max: 900}),
  })
  .map((r) => {
    const seed = seedPipeline()
    // Post-processing on every object of results/ would overlap a chained group's trigger: S3 refuses that (tested elsewhere).
    const postEverything = r.post?.hasCode && r.post.trigger === undefined
    const groups: Group[] = r.groupNames.map((name, i) => ({name, userNames: [], userInput: postEverything || !r.chained[i]}))
    const users: User[] = r.userNames.map((name, i) => {
      const picks = [...new Set(r.memberships[i]!.map((m) => groups[m % groups.length]!.name))]
      for (const g of picks) groups.find((x) => x.name === g)!.userNames.push(name)
      return {name, groups: picks, existing: r.existing[i]!}
    })
    return {
      ...seed,
      name: r.name,
      submitHandler: r.custom ? {kind: 'custom', codeDir: `${seed.dir}/my-handler`, handler: 'app.handler'} : seed.submitHandler,
      launch: r.launch,
      postProcess: r.post && {
        handler: 'post.handler',
        trigger: r.post.trigger,
        codeDir: r.post.hasCode ? `${seed.dir}/post` : undefined,
        declaredCodeUri: 'post',
      },
      instance: {
        ...seed.instance,
        iamRole: r.iamRole,
        securityGroups: r.securityGroups,
        keyName: r.keyName,
        monitor: r.monitor,
        executionTimeout: r.executionTimeout,
      },
      groups,
      users,
    } satisfies Pipeline
  })

test(`${RUNS} random valid pipelines compile deterministically into templates cfn-lint passes`, async (t) => {
  const samples = fc.sample(pipelineArbitrary, {numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 20250101)})
  const files: string[] = []
  for (const pipeline of samples) {
    const a = compilePipeline(pipeline)
    const b = compilePipeline(structuredClone(pipeline))
    t.is(serializeTemplate(a.main), serializeTemplate(b.main), pipeline.name)
    for (const id of Object.keys(a.main.Resources)) t.regex(id, /^[A-Za-z0-9]{1,255}$/)
    files.push(...(await writeToTemp(a, 'ncap-prop-')))
  }
  const problems = unexpected(await cfnLint(files, 2))
  t.deepEqual(problems, [], `fast-check seed ${process.env.FC_SEED ?? 20250101}`)
})
