/** The job protocol's pure parts: keys, the submit file, config limits, COMMAND slots, costs, prices, the certificate. */
import test from 'ava'
import {
  basename,
  costOf,
  decodeEventKey,
  encodeEventKey,
  fillCommand,
  groupOf,
  jobId,
  jobPaths,
  jobRuleName,
  jobTimestamp,
  parseSubmission,
  readJobLimits,
  renderCertificate,
  statusKey,
  tablePrice,
  tail,
  workingDirectory,
} from '../../lambda_repo/lib/index.js'

test('keys: job ids, job folders, NeuroCAAS status file names, the third COMMAND value relative to the group', (t) => {
  t.is(jobId('dlc', '1595132090'), 'job__dlc_1595132090')
  t.is(jobTimestamp('dlc', 'job__dlc_1595132090'), '1595132090')
  t.is(jobTimestamp('dlc', 'job__other_1'), undefined)
  const job = jobPaths('dlc', 'lab', 'results', 'job__dlc_1')
  t.is(job.resultPath, 'results/job__dlc_1')
  t.is(job.certificate, 'lab/results/job__dlc_1/logs/certificate.txt')
  t.is(job.end, 'lab/results/job__dlc_1/process_results/end.txt')
  t.is(job.ssmOutputPrefix, 'lab/results/job__dlc_1/internal_ec2_logs')
  t.is(statusKey(job, 'lab/inputs/video.mp4'), 'lab/results/job__dlc_1/logs/DATASET_NAME:video.mp4_STATUS.txt')
  t.is(statusKey(job, 'lab/inputs/session/'), 'lab/results/job__dlc_1/logs/DATASET_NAME:session_STATUS.txt')
  t.is(groupOf('lab/inputs/x'), 'lab')
  t.is(basename('a/b/'), 'b')
})

test('S3 event keys: encoded as S3 does and decoded back', (t) => {
  for (const key of ['lab/submissions/a b+c.json', "lab/x/(1)'s ~*!.json", 'lab/ü/ß.json']) t.is(decodeEventKey(encodeEventKey(key)), key)
  t.is(encodeEventKey('lab/a b+c.json'), 'lab/a+b%2Bc.json')
})

test('rule names stay within EventBridge 64 characters and its character set', (t) => {
  t.is(jobRuleName('job__dlc', '1595132090'), 'job__dlc_1595132090')
  const long = jobRuleName('job__a-very-long-bucket-name-that-is-cut-0', 'a-very-long-timestamp-0123456789')
  t.true(long.length <= 64)
  t.regex(long, /^[A-Za-z0-9._-]+$/)
  t.not(long, jobRuleName('job__a-very-long-bucket-name-that-is-cut-0', 'a-very-long-timestamp-0123456780'))
})

test('submit files: one schema; a list or one dataset; numbers as timestamps; cancel requests', (t) => {
  const one = parseSubmission('{"dataname": "lab/inputs/a", "configname": "lab/configs/c.yaml", "timestamp": 12}')
  t.like(one, {kind: 'submit', datasets: ['lab/inputs/a'], submit: {timestamp: '12'}})
  const many = parseSubmission('{"dataname": ["lab/inputs/a", "lab/inputs/a", "lab/inputs/b"], "configname": "c", "timestamp": "t"}')
  t.like(many, {kind: 'submit', datasets: ['lab/inputs/a', 'lab/inputs/b']})
  t.like(parseSubmission('{"cancel": "job__dlc_1"}'), {kind: 'cancel', jobId: 'job__dlc_1'})
  t.like(parseSubmission('{"cancel": "job__dlc_1", "x": 1}'), {kind: 'invalid'})
  const bad = parseSubmission('{"dataname": [], "timestamp": "a/b"}')
  t.is(bad.kind, 'invalid')
  if (bad.kind === 'invalid') {
    t.regex(bad.reason, /"dataname" lists no dataset/)
    t.regex(bad.reason, /"configname" is missing/)
    t.regex(bad.reason, /"timestamp" must be 1 to 64 letters/)
  }
  t.like(parseSubmission('{"dataname": "a", "configname": "c", "timestamp": "t", "instance_type": "huge"}'), {kind: 'invalid'})
})

test('__duration__ and __dataset_size__ from YAML or JSON; a default with a note; bad values refused', (t) => {
  t.like(readJobLimits('c.yaml', '__duration__: 90\n__dataset_size__: 12.5\n'), {
    ok: true,
    limits: {durationMinutes: 90, datasetSizeGb: 12.5},
  })
  t.like(readJobLimits('c.json', '{"__duration__": "30"}'), {ok: true, limits: {durationMinutes: 30}})
  const none = readJobLimits('c.yaml', 'threshold: 1\n')
  t.true(none.ok && none.limits.durationMinutes === 60 && /sets no __duration__/.test(none.limits.notes[0]!))
  t.like(readJobLimits('c.yaml', '__duration__: -1\n'), {ok: false})
  t.like(readJobLimits('c.json', '{'), {ok: false})
  t.like(readJobLimits('c.yaml', 'a: [\n'), {ok: false})
})

test("COMMAND's slots in order; the seed's ~ working directory", (t) => {
  t.is(fillCommand('run "{}" "{}" "{}" "{}"', 4, ['b', 'k', 'results/j', 'c']), 'run "b" "k" "results/j" "c"')
  t.is(fillCommand('run {} {}', 2, ['b', 'k', 'r', 'c']), 'run b k')
  t.is(workingDirectory('~/bin'), '/home/ubuntu/bin')
  t.is(workingDirectory(''), undefined)
})

test('costs count every hour, past a day too; prices from the table, an unknown type at its family dearest', (t) => {
  const start = '2026-01-01T00:00:00.000Z'
  t.is(costOf({price: 1, start}, new Date('2026-01-02T06:00:00.000Z')), 30)
  t.is(costOf({price: 0.5, start}, new Date('2026-01-04T00:30:00.000Z')), 36.25)
  t.deepEqual(tablePrice('t3.micro'), {price: 0.0104, exact: true})
  t.deepEqual(tablePrice('m5.48xlarge'), {price: 4.608, exact: false})
})

test('the certificate: per-dataset block and the job manager steps with elapsed times', (t) => {
  const text = renderCertificate(
    {
      version: 1,
      jobId: 'job__dlc_1',
      pipeline: 'dlc',
      bucket: 'dlc',
      group: 'lab',
      submitKey: 'lab/submissions/submit.json',
      state: 'running',
      created: '2026-01-01T00:00:00.000Z',
      steps: [{at: '2026-01-01T00:00:01.000Z', elapsedMs: 1250, message: 'launched 1 instance'}],
      datasets: [{dataKey: 'lab/inputs/a.mp4', statusKey: 'k', instanceId: 'i-1'}],
    },
    [
      {
        status: 'IN PROGRESS',
        reason: ['command sent'],
        stdout: 'line 1\nline 2\n',
        stderr: '',
        input: 'lab/inputs/a.mp4',
        config: '',
        instance: 'i-1',
        command: 'x',
        job: 'job__dlc_1',
        job_start: '2026-01-01T00:00:00.000Z',
        time: '2026-01-01T00:00:02.000Z',
      },
    ],
  )
  t.regex(
    text,
    /DATASET: lab\/inputs\/a\.mp4\n {2}STATUS: IN PROGRESS\n {2}INSTANCE: i-1\n {2}TIME: 2026-01-01T00:00:02\.000Z\n {2}REASON: command sent\n {2}LAST COMMAND OUTPUT: line 2/,
  )
  t.regex(text, /\[2026-01-01T00:00:01\.000Z\] \(\+1\.25s\) launched 1 instance/)
  t.is(tail('a\nb\nc\n', 2), 'b\nc')
})
