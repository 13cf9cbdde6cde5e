/**
 * `ncap demo`: the whole product on one machine, with nothing but Node — in a
 * fresh temporary workspace on a private emulator: init a pipeline whose image
 * computes a video's motion energy, deploy it, make a short video with the
 * packaged ffmpeg, submit it as the group's user, follow the job's log, download
 * the results, say where they are, destroy the stack. Each step is shown.
 */
import {chmod, copyFile, mkdtemp, readFile, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {INIT_DEFAULTS, type InitAnswers, initPipeline, packageRoot} from '../config/scaffold.js'
import {deployPipeline, destroyPipeline} from '../deploy/deploy.js'
import {startEmulator, stopEmulator} from '../emulator/lifecycle.js'
import {NcapError} from '../errors.js'
import {jobContext} from '../jobs/context.js'
import {followJob, formatLogLine} from '../jobs/follow.js'
import {findJob, type JobView} from '../jobs/read.js'
import {downloadResults, type ResultsResult} from '../jobs/results.js'
import {submitJob} from '../jobs/submit.js'
import {runSteps, type Step, type StepOutput} from '../ui/steps.js'
import {makeDemoVideo, packagedFfmpeg} from './video.js'

export const DEMO_PIPELINE = 'ncap-demo'
const ANALYSIS_START = '# ==== PUT YOUR ANALYSIS HERE'
const ANALYSIS_END = '# ==== END OF YOUR ANALYSIS'

export interface DemoOptions {
  keep: boolean
  output: StepOutput
  /** Where the job's log lines go as they come. */
  onLine(text: string): void
  /** Defaults to a new temporary folder. */
  workspace?: string
}

export interface DemoResult {
  workspace: string
  pipelineDir: string
  endpoint: string
  jobId: string
  outcome: string
  results: ResultsResult
  csv: string
  plot: string
  frames: number
  kept: boolean
  timingsMs: Record<string, number>
}

/** The scaffold's run.sh with its placeholder analysis replaced by the motion energy of each input video. */
export async function demoRunScript(): Promise<string> {
  const scaffold = await readFile(join(packageRoot(), 'templates', 'pipeline', 'image', 'bin', 'run.sh'), 'utf8')
  const start = scaffold.indexOf(ANALYSIS_START)
  const end = scaffold.indexOf(ANALYSIS_END)
  if (start < 0 || end < start) throw new NcapError("the scaffold's run.sh has lost its analysis markers", {code: 'DemoScaffold'})
  const analysis = `${ANALYSIS_START} (the demo's: motion energy)
# For each input video: the per-frame motion energy (as Facemap computes it) as CSV
# and an SVG plot, by bin/motion_energy.mjs and the ffmpeg beside it.
analyze() {
  local file
  while IFS= read -r -d '' file; do
    node "$(dirname "$0")/motion_energy.mjs" "$file" "$results" || fail "could not compute the motion energy of $(basename "$file")"
  done < <(find "$inputs" -type f -print0 | sort -z)
}
analyze
`
  return scaffold.slice(0, start) + analysis + scaffold.slice(end)
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const workspace = options.workspace ?? (await mkdtemp(join(tmpdir(), 'ncap-demo-')))
  const stateDir = join(workspace, 'emulator')
  const pipelineDir = join(workspace, 'pipelines', DEMO_PIPELINE)
  const video = join(workspace, 'mouse.mp4')
  const timings: Record<string, number> = {}
  const ctx: {endpoint?: string; jobId?: string; view?: JobView; results?: ResultsResult} = {}
  const flags = {target: 'local', 'state-dir': stateDir}
  const timed =
    (name: string, run: Step<typeof ctx>['run']): Step<typeof ctx>['run'] =>
    async (c, report) => {
      const t0 = Date.now()
      await run(c, report)
      timings[name] = Date.now() - t0
    }
  const steps: Step<typeof ctx>[] = [
    {
      title: 'Start a private emulator',
      run: timed('emulator', async (c, report) => {
        const started = await startEmulator({stateDir, port: 0})
        c.endpoint = started.endpoint
        report(`${started.endpoint}, state in ${stateDir}`)
      }),
    },
    {
      title: `ncap init ${DEMO_PIPELINE}: one group, lab, with its user alice`,
      run: timed('init', async (_c, report) => {
        const answers: InitAnswers = {...INIT_DEFAULTS, name: DEMO_PIPELINE, groups: [{name: 'lab', users: ['alice']}]}
        await initPipeline(pipelineDir, answers)
        // The demo's analysis: motion energy, with the packaged ffmpeg beside it in the image.
        const bin = join(pipelineDir, 'image', 'bin')
        await writeFile(join(bin, 'run.sh'), await demoRunScript())
        await chmod(join(bin, 'run.sh'), 0o755)
        await copyFile(join(packageRoot(), 'templates', 'demo', 'image', 'bin', 'motion_energy.mjs'), join(bin, 'motion_energy.mjs'))
        await symlink(packagedFfmpeg(), join(bin, 'ffmpeg'))
        report(pipelineDir)
      }),
    },
    {
      title: 'ncap deploy: the stack on the emulator',
      run: timed('deploy', async (_c, report) => {
        const result = await deployPipeline({
          dir: pipelineDir,
          flags,
          yes: true,
          execute: true,
          output: 'silent',
          showChanges: (rows) => report(`${rows.length} resources to add`),
          onEvent: (e) => report(`${e.status} ${e.logicalId}`),
          note: () => {},
        })
        if (result.status !== 'CREATE_COMPLETE') {
          throw new NcapError(
            `the demo stack did not deploy: ${result.status}; ${result.failures.map((f) => `${f.logicalId}: ${f.reason}`).join('; ')}`,
          )
        }
        report(`${result.stackName}: ${result.status}`)
      }),
    },
    {
      title: 'Make a 6-second video of a moving square with the packaged ffmpeg',
      run: timed('video', async (_c, report) => {
        await makeDemoVideo(video)
        report(video)
      }),
    },
    {
      title: 'ncap submit mouse.mp4 (as alice, a user of group lab)',
      run: timed('submit', async (c, report) => {
        const submitted = await submitJob({dir: pipelineDir, ...flags, items: [video]})
        c.jobId = submitted.jobId
        report(`${submitted.jobId} as ${submitted.as}`)
      }),
    },
    {
      title: 'ncap logs --follow: the job as it runs',
      run: timed('job', async (c) => {
        const job = await jobContext({dir: pipelineDir, ...flags})
        const deadline = Date.now() + 120_000
        let view: JobView | undefined
        while (!view) {
          view = await findJob(job, c.jobId, 'lab').catch((error) => {
            if (Date.now() > deadline) throw error
            return undefined
          })
          if (!view) await new Promise((done) => setTimeout(done, job.pollMs))
        }
        c.view = await followJob(job, view, {follow: true, onLine: (line) => options.onLine(formatLogLine(line))})
        if (c.view.outcome !== 'succeeded')
          throw new NcapError(`the demo job ended ${c.view.outcome}: see the log above`, {code: 'DemoJobFailed'})
      }),
    },
    {
      title: 'ncap results: download and verify',
      run: timed('results', async (c, report) => {
        const job = await jobContext({dir: pipelineDir, ...flags})
        c.results = await downloadResults(job, c.view!, join(workspace, 'results'))
        report(c.results.out)
      }),
    },
    {
      title: 'ncap destroy: remove the stack',
      skip: () => (options.keep ? '--keep: the stack, the emulator and the workspace stay' : false),
      run: timed('destroy', async (_c, report) => {
        const destroyed = await destroyPipeline({dir: pipelineDir, flags, output: 'silent', onEvent: () => {}})
        report(destroyed.status)
        await stopEmulator(stateDir)
      }),
    },
  ]
  try {
    await runSteps(steps, ctx, options.output)
  } catch (error) {
    if (!options.keep) await stopEmulator(stateDir).catch(() => undefined)
    throw error
  }
  const csvFile = ctx.results!.files.find((f) => f.file.endsWith('_motion_energy.csv'))
  const plot = ctx.results!.files.find((f) => f.file.endsWith('_motion_energy.svg'))
  if (!csvFile || !plot) throw new NcapError('the demo job wrote no motion-energy CSV and plot', {code: 'DemoNoResults'})
  const csv = await readFile(csvFile.file, 'utf8')
  return {
    workspace,
    pipelineDir,
    endpoint: ctx.endpoint!,
    jobId: ctx.jobId!,
    outcome: ctx.view!.outcome,
    results: ctx.results!,
    csv: csvFile.file,
    plot: plot.file,
    frames: csv.trim().split('\n').length - 1,
    kept: options.keep,
    timingsMs: timings,
  }
}
