import {Command} from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'
import {NcapError} from '../errors.js'

/**
 * The one base class of ncap's commands: --json rendering of the typed result
 * that run() returns, and errors turned into a message and an exit code.
 * oclif's own parse errors (unknown flag, missing argument) already exit 2.
 */
export abstract class NcapCommand extends Command {
  static override enableJsonFlag = true

  /** Human output, suppressed under --json. */
  protected say(message = ''): void {
    if (!this.jsonEnabled()) this.log(message)
  }

  /** Warnings go to stderr, so --json output on stdout stays parseable. */
  protected warnLine(message: string): void {
    process.stderr.write(`Warning: ${message}\n`)
  }

  protected override async catch(error: Error & {code?: string; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit(n) after a result was already rendered: leave, print nothing more.
    if (error.code === 'EEXIT') throw error
    if (error instanceof NcapError) {
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.message, suggestions: error.suggestions}})
        this.exit(error.exitCode)
      }
      const hint = error.suggestions.length > 0 ? `\n${error.suggestions.map((s) => `Try: ${s}`).join('\n')}` : ''
      process.stderr.write(`Error: ${error.message}${hint}\n`)
      this.exit(error.exitCode)
    }
    // An AWS service's refusal (the SDK's ServiceException): its name and message, not a stack trace.
    const service = error as Error & {$metadata?: {httpStatusCode?: number}; $fault?: string}
    if (service.$metadata && service.name) {
      const message = `${service.name}: ${service.message}`
      if (this.jsonEnabled()) {
        this.logJson({error: {code: service.name, message: service.message, status: service.$metadata.httpStatusCode}})
        this.exit(1)
      }
      process.stderr.write(`Error: the target refused a call: ${message}\n`)
      this.exit(1)
    }
    return super.catch(error)
  }
}

export const targetFlags = {
  target: Flags.string({
    description: 'where to run: the embedded emulator, a LocalStack container or AWS',
    options: ['local', 'localstack', 'aws'],
    default: 'local',
    helpGroup: 'TARGET',
  }),
  'endpoint-url': Flags.string({description: 'any AWS-compatible endpoint (overrides --target)', helpGroup: 'TARGET'}),
  profile: Flags.string({description: 'AWS profile (target aws)', helpGroup: 'TARGET'}),
  region: Flags.string({description: "AWS region (default: the config's REGION)", helpGroup: 'TARGET'}),
}

/**
 * The target flags of commands that act on a deployed pipeline: with no --target
 * the saved choice of the last deploy applies (ncap-deploy.json), else local.
 */
export const pipelineTargetFlags = {
  target: Flags.string({
    description: 'where the pipeline runs: the embedded emulator, a LocalStack container or AWS (default: as last deployed, else local)',
    options: ['local', 'localstack', 'aws'],
    helpGroup: 'TARGET',
  }),
  'endpoint-url': targetFlags['endpoint-url'],
  profile: targetFlags.profile,
  region: targetFlags.region,
  'state-dir': Flags.string({description: "the local emulator's state folder (target local)", helpGroup: 'TARGET'}),
}

/** The emulator's state folder, as every `ncap emulator` command takes it. */
export const stateDirFlag = {
  'state-dir': Flags.string({description: 'state folder (default: $NCAP_HOME/emulator or the per-user data folder)'}),
}
