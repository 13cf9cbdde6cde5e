#!/usr/bin/env bash
# The main job, end to end on the embedded emulator (`npm run demo`).
#
# What runs for real: `ncap init` makes a pipeline; `ncap validate`/`build`/`graph` compile
# and check it; `ncap emulator start` starts the embedded AWS emulator; the compiled
# template's bucket, IAM group (with its generated policy) and user are created on it;
# the user uploads a dataset and a config with their own key (and is refused another
# group's folder); the pipeline's own image/bin/run.sh (what an instance runs on AWS)
# analyzes the dataset through the AWS CLI against the emulator; the user downloads
# the results. Deploying the stack through the emulator's CloudFormation, Lambda, EC2
# and SSM comes with the next stages: until then this script plays their part.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true CI=true
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ -f dist/commands/build.js ] && [ -f oclif.manifest.json ] || npm run build --silent
ncap() { node bin/run.js "$@"; }
real_aws=$(command -v aws || true)
[ -n "$real_aws" ] || { echo "demo: the AWS CLI is needed (apt-get install awscli)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ncap-demo.XXXXXX")
export NCAP_HOME="$work/home"
pipeline="$work/pipelines/ncap-demo"
cleanup() { ncap emulator stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

step "ncap init: a new pipeline with one group, lab, and its user alice"
ncap init "$pipeline" --name ncap-demo --group lab:alice --yes

step "ncap validate and ncap build"
ncap validate "$pipeline"
ncap build "$pipeline"
ncap graph "$pipeline" --format svg --output "$work/ncap-demo.svg"

step "ncap emulator start"
ncap emulator start --port 0
endpoint=$(ncap emulator status --json | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).endpoint))')

# An `aws` first on PATH that targets the emulator, as the emulator's instances will have:
# AWS CLI v2 builds before 2.13 ignore AWS_ENDPOINT_URL.
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec "%s" --endpoint-url "%s" "$@"\n' "$real_aws" "$endpoint" > "$work/bin/aws"
chmod +x "$work/bin/aws"
export PATH="$work/bin:$PATH" AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL="$endpoint"
admin() { AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$@"; }

step "the compiled stack's bucket, group (with its generated policy) and user, on the emulator"
admin aws s3 mb s3://ncap-demo
# The group policy exactly as compiled, with the template's Fn::Sub values filled in.
node -e '
  const t = require(process.argv[1])
  const fill = (v) => Array.isArray(v) ? v.map(fill) : v && typeof v === "object"
    ? ("Fn::Sub" in v ? v["Fn::Sub"].replace(/\$\{AWS::Partition\}/g, "aws").replace(/\$\{AWS::AccountId\}/g, "000000000000")
        .replace(/\$\{PipelineBucket\}/g, "ncap-demo").replace(/\$\{!/g, "${")
      : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]))) : v
  console.log(JSON.stringify(fill(t.Resources.GroupLab.Properties.Policies[0].PolicyDocument)))
' "$pipeline/compiled_template.json" > "$work/lab-policy.json"
admin aws iam create-group --group-name ncap-demo-lab --output text >/dev/null
admin aws iam put-group-policy --group-name ncap-demo-lab --policy-name ncap-group-access --policy-document "file://$work/lab-policy.json"
admin aws iam create-user --user-name alice --output text >/dev/null
admin aws iam add-user-to-group --group-name ncap-demo-lab --user-name alice
read -r alice_key alice_secret < <(admin aws iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
alice() { AWS_ACCESS_KEY_ID="$alice_key" AWS_SECRET_ACCESS_KEY="$alice_secret" "$@"; }
alice aws sts get-caller-identity --query Arn --output text

step "alice uploads a dataset and a config into her group's folders"
head -c 5000000 /dev/urandom > "$work/session1.bin"
printf '__duration__: 5\n__dataset_size__: 0.005\nthreshold: 0.5\n' > "$work/config.yaml"
alice aws s3 cp --no-progress "$work/session1.bin" s3://ncap-demo/lab/inputs/session1.bin
alice aws s3 cp --no-progress "$work/config.yaml" s3://ncap-demo/lab/configs/config.yaml
echo "alice lists the bucket's root (refused, as on AWS):"
if alice aws s3 ls s3://ncap-demo/ 2>&1; then echo "demo: alice should not list the bucket root" >&2; exit 1; fi

step "the instance's part: image/bin/run.sh analyzes the dataset against the emulator"
job=lab/results/job__ncap-demo_$(date -u +%Y%m%dT%H%M%SZ)
admin bash "$pipeline/image/bin/run.sh" ncap-demo lab/inputs/session1.bin "$job" lab/configs/config.yaml

step "alice downloads her results"
alice aws s3 cp --no-progress --recursive "s3://ncap-demo/$job/process_results/" "$work/results/"
cat "$work/results/session1.bin.summary.json"
expected=$(sha256sum "$work/session1.bin" | cut -d' ' -f1)
grep -q "$expected" "$work/results/session1.bin.summary.json" || { echo "demo: the checksum in the results is wrong" >&2; exit 1; }

step "done: the results hold the dataset's size and sha256 ($expected)"
echo "pipeline: $pipeline"
echo "graph:    $work/ncap-demo.svg"
