import * as Flags from '@oclif/core/flags'
import {type CleanupItem, type CleanupResult, cleanup} from '../src/cleanup/index.js'
import {jobContext} from '../src/jobs/context.js'
import {NcapCommand, pipelineTargetFlags} from '../src/ui/ncap-command.js'

export default class Cleanup extends NcapCommand {
  static override summary = "Find and remove what a pipeline's jobs left behind: stray job rules, volumes and security groups"
  static override description = `Looks only at the pipeline in --dir, by its own names and tags:
  rules            job monitoring rules of this pipeline (named with its job rule prefix) with no target, whose job has end.txt, or whose instances are all terminated, stopped or gone
  volumes          available volumes with this pipeline's job tags, and volumes attached to its stopped job instances
  security groups  launch-wizard-* groups and the ones ncap made for this pipeline that no network interface uses and no remaining group's rule references

Never touches what is in use, what is neither ncap's nor a launch wizard's, a rule an AWS service manages, or a resource of the live stack. With none of --rules, --volumes, --security-groups, all three are looked at.

A dry run by default: each candidate is listed with why it is stray. --yes deletes them in dependency order (a rule's targets before the rule, a detach before the volume, rules referencing a group before the group) and reports each.

Exit codes: 0 done (or nothing to do), 1 a deletion was refused (the others still ran), 2 usage.`
  static override examples = [
    '<%= config.bin %> cleanup',
    '<%= config.bin %> cleanup --yes',
    '<%= config.bin %> cleanup --rules --older-than 2h --yes',
    '<%= config.bin %> cleanup --volumes --security-groups --dir pipelines/dlc --target aws --json',
  ]
  static override flags = {
    dir: Flags.string({description: "the pipeline's folder (its stack config)", default: '.'}),
    rules: Flags.boolean({description: 'look at job monitoring rules'}),
    volumes: Flags.boolean({description: 'look at EBS volumes'}),
    'security-groups': Flags.boolean({description: 'look at security groups'}),
    'older-than': Flags.string({description: 'only candidates at least this old (e.g. 30m, 2h, 7d, 1h30m)'}),
    yes: Flags.boolean({char: 'y', description: 'delete the candidates (without it: a dry run)'}),
    ...pipelineTargetFlags,
  }

  async run(): Promise<CleanupResult> {
    const {flags} = await this.parse(Cleanup)
    const ctx = await jobContext(flags)
    const result = await cleanup(ctx, {
      rules: flags.rules,
      volumes: flags.volumes,
      securityGroups: flags['security-groups'],
      ...(flags['older-than'] !== undefined ? {olderThan: flags['older-than']} : {}),
      yes: flags.yes,
      progress: (line) => this.say(`  ${line}`),
    })
    if (!this.jsonEnabled()) this.report(result)
    if (result.failed.length > 0) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(1)
    }
    return result
  }

  private report(result: CleanupResult): void {
    const line = (i: CleanupItem) => `  ${i.kind.padEnd(14)} ${i.id}${i.name && i.name !== i.id ? ` (${i.name})` : ''}: ${i.reason}`
    const scope = `${result.kinds.join(', ')}${result.olderThan ? `, older than ${result.olderThan}` : ''}`
    if (result.candidates.length === 0) this.log(`Nothing stray for pipeline ${result.pipeline} (${scope}).`)
    else if (result.dryRun) {
      this.log(`${result.candidates.length} stray resource(s) of pipeline ${result.pipeline} (${scope}):`)
      for (const c of result.candidates) this.log(line(c))
      this.log('Dry run: nothing was deleted. Run again with --yes to delete these.')
    } else {
      this.log(`Deleted ${result.deleted.length} of ${result.candidates.length} stray resource(s) of pipeline ${result.pipeline}.`)
      for (const f of result.failed) this.log(`  could not delete ${f.kind} ${f.id}: ${f.error}`)
    }
    if (result.kept.length > 0) {
      this.log(`Kept ${result.kept.length}:`)
      for (const k of result.kept) this.log(line(k))
    }
  }
}
