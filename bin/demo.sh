#!/usr/bin/env bash
# The main job, end to end on the embedded emulator (`npm run demo`): `ncap demo`
# inits a pipeline whose image computes a video's per-frame motion energy, deploys
# it on a private emulator (CloudFormation, Lambda, EC2, SSM, EventBridge, all
# emulated), makes a short video with the packaged ffmpeg, submits it as the
# group's user, follows the job, downloads and verifies the results, and destroys
# the stack. It needs only Node and what `npm ci` installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
[ -f dist/commands/demo.js ] && [ -f oclif.manifest.json ] || npm run build --silent
exec node bin/run.js demo "$@"
