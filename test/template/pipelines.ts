/**
 * Pipelines built by hand for the compiler's tests: the seed's example (as the
 * config loader will produce it from test/fixtures/seed/stack_config_template.json),
 * one exercising every feature, and a large one.
 */
import type {Group, Pipeline, User} from '../../src/config/model.js'

export const FIXED_DIR = '/pipelines/example'

function usersOf(groups: Group[], existing: string[] = []): User[] {
  const users: User[] = []
  for (const group of groups) {
    for (const name of group.userNames) {
      const known = users.find((u) => u.name.toLowerCase() === name.toLowerCase())
      if (known) known.groups.push(group.name)
      else users.push({name, groups: [group.name], existing: existing.includes(name)})
    }
  }
  return users
}

export function seedPipeline(dir = FIXED_DIR): Pipeline {
  const groups: Group[] = [
    {name: 'carcealab2', userNames: ['user21', 'user22'], userInput: true, pipelinePath: '', pipelineDir: 'trackingfolder'},
    {name: 'testergroup2', userNames: ['taiga2'], userInput: true, pipelinePath: '', pipelineDir: 'trackingfolder'},
  ]
  return {
    file: `${dir}/stack_config_template.json`,
    dir,
    name: 'dlcmonitored1',
    region: 'us-east-1',
    submitHandler: {kind: 'ncap', declaredCodeUri: 'lambda_code', declaredHandler: 'submit_start.handler'},
    launch: true,
    instance: {
      ami: 'ami-045deefcfb062fd2a',
      instanceType: 'p2.xlarge',
      region: 'us-east-1',
      securityGroups: ['launch-wizard-34'],
      iamRole: 'pmd-s3-ssm',
      keyName: 'ta_testkey',
      workingDirectory: '~/bin',
      command: 'ls; cd ../../../home/ubuntu; bin/run.sh "{}" "{}" "{}" "{}"',
      commandSlots: 4,
      shutdownBehavior: 'terminate',
      config: 'config.yaml',
      missingConfigError: 'We need a config file to analyze data.',
      executionTimeout: 180,
      ssmTimeout: 172000,
      logDir: 'logs',
      outDir: 'results',
      inDir: 'inputs',
      logFile: 'lambda_log.txt',
      deployLimit: 100,
      maxCost: 300,
      monitor: true,
    },
    groups,
    users: usersOf(groups),
    local: {images: {}},
  }
}

/** Every feature at once: existing users, a user in two groups, chaining, post-processing, a custom handler, created account resources. */
export function everyFeaturePipeline(dir = FIXED_DIR): Pipeline {
  const base = seedPipeline(dir)
  const groups: Group[] = [
    {name: 'Lab-A', userNames: ['alice', 'bob', 'Shared.User'], userInput: true, contactEmail: 'a@example.org'},
    {name: 'lab_b', userNames: ['carol', 'shared.user', 'old-timer'], userInput: true},
    {name: 'chained', userNames: ['dave'], userInput: false},
  ]
  return {
    ...base,
    name: 'every-feature.pipeline',
    version: '2.1',
    stage: 'develop',
    submitHandler: {kind: 'custom', codeDir: `${dir}/handlers/submit`, handler: 'main.handler'},
    launch: false,
    postProcess: {handler: 'post.handler', trigger: 'end.txt', codeDir: `${dir}/post`, declaredCodeUri: 'post'},
    instance: {...base.instance, securityGroups: [], iamRole: undefined, keyName: undefined, workingDirectory: undefined, monitor: true},
    groups,
    users: usersOf(groups, ['old-timer']),
  }
}

/** users x groups: each group has its own users, and every tenth user is also in the next group. */
export function largePipeline(userCount: number, groupCount: number, dir = FIXED_DIR): Pipeline {
  const base = seedPipeline(dir)
  const groups: Group[] = []
  const perGroup = Math.ceil(userCount / groupCount)
  for (let g = 0; g < groupCount; g++) {
    const userNames: string[] = []
    for (let u = g * perGroup; u < Math.min(userCount, (g + 1) * perGroup); u++) userNames.push(`user${u}`)
    if (g > 0) userNames.push(`user${(g - 1) * perGroup}`)
    groups.push({name: `group${g}`, userNames, userInput: true})
  }
  return {...base, name: 'large-pipeline', groups, users: usersOf(groups)}
}
