/**
 * A command's long work as a list of small steps, each shown with its own
 * progress (listr2, as the CDK toolkit shows a deploy): a live list on a
 * terminal, one plain line per step elsewhere, nothing under --json.
 */
export interface Step<C> {
  title: string
  /** Skipped (and shown as skipped) when this returns a reason. */
  skip?: (context: C) => string | false | undefined
  run: (context: C, report: (text: string) => void) => Promise<void>
}

export type StepOutput = 'tty' | 'plain' | 'silent'

export function outputMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): StepOutput {
  if (json) return 'silent'
  return stream.isTTY && !process.env.CI ? 'tty' : 'plain'
}

/** Runs the steps in order; the first failure stops them and is rethrown as it was. */
export async function runSteps<C extends object>(steps: Step<C>[], context: C, mode: StepOutput): Promise<C> {
  if (mode === 'silent') {
    for (const step of steps) {
      if (step.skip?.(context)) continue
      await step.run(context, () => {})
    }
    return context
  }
  const {Listr, ProcessOutput} = await import('listr2')
  const list = new Listr<C>(
    steps.map((step) => ({
      title: step.title,
      skip: (ctx: C) => step.skip?.(ctx) || false,
      task: async (ctx: C, task) => {
        const started = Date.now()
        await step.run(ctx, (text) => {
          task.output = text
        })
        task.title = `${step.title} (${((Date.now() - started) / 1000).toFixed(1)} s)`
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      renderer: (mode === 'tty' ? 'default' : 'simple') as never,
      fallbackRenderer: 'simple',
      // Progress goes to stderr, so stdout keeps only what a script would read.
      rendererOptions: {collapseSubtasks: false, processOutput: new ProcessOutput(process.stderr, process.stderr)} as never,
      fallbackRendererOptions: {processOutput: new ProcessOutput(process.stderr, process.stderr)} as never,
      ctx: context,
    },
  )
  await list.run(context)
  return context
}
