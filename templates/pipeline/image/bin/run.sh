#!/usr/bin/env bash
# The pipeline's entry point on the instance. The stack config's COMMAND calls it
# through SSM with up to four values, in this order:
#   $1 bucket        the pipeline's bucket
#   $2 data key      the dataset to analyze, e.g. lab/inputs/video.mp4 (a key ending in / is a folder)
#   $3 result path   this job's folder relative to the group folder, e.g. results/job__bucket_ts
#                    (NeuroCAAS's and the seed's layout: the group comes from the data key, so
#                    results go to <group>/<result path>/process_results/; a path that already
#                    starts with the group is taken as it is)
#   $4 config key    the analysis parameters, e.g. lab/configs/config.yaml (may be absent)
# Everything written to stdout/stderr is captured by SSM and shown in the job's logs; the job's
# status (SUCCESS or FAILED) is this script's exit code, as SSM reports it.
# At the end it powers the instance off (as the seed's script does), so the instance's shutdown
# behaviour ends it: a moment after exiting, so that SSM records the exit code first. It does so
# only on an instance (AWS EC2 or ncap's emulator); NCAP_POWEROFF=never skips it.
# Transfers use plain `aws s3 cp`: on AWS it reaches S3; on ncap's emulator an `aws`
# wrapper first on PATH (or AWS_ENDPOINT_URL) points it at the emulator. Keep it that way.
set -euo pipefail

# On an instance: AWS EC2 (its firmware says so) or an emulator instance (its metadata endpoint is set).
on_instance() {
  [ -n "${AWS_EC2_METADATA_SERVICE_ENDPOINT:-}" ] && return 0
  grep -qi '^ec2' /sys/hypervisor/uuid 2>/dev/null && return 0
  grep -qi '^i-' /sys/devices/virtual/dmi/id/board_asset_tag 2>/dev/null && return 0
  grep -qi 'amazon ec2' /sys/devices/virtual/dmi/id/sys_vendor 2>/dev/null && return 0
  return 1
}
# Runs when the script exits, whatever its outcome: an instance left up only costs money.
power_off_later() {
  if [ "${NCAP_POWEROFF:-auto}" = never ] || ! on_instance; then return 0; fi
  local poweroff="poweroff"
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then poweroff="sudo poweroff"; fi
  # Detached from SSM's output pipes, so the command is reported finished before the instance goes down.
  nohup bash -c "sleep ${NCAP_POWEROFF_DELAY:-1}; $poweroff" </dev/null >/dev/null 2>&1 &
}
trap power_off_later EXIT

log() { printf '%s [run.sh] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() {
  printf '%s [run.sh] ERROR: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
  exit 1
}

if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then
  echo "usage: run.sh BUCKET DATA_KEY RESULT_PATH [CONFIG_KEY]" >&2
  exit 2
fi
bucket="$1"
data_key="$2"
result_path="${3%/}"
config_key="${4:-}"
[ -n "$bucket" ] || fail "the bucket (first value) is empty"
[ -n "$data_key" ] || fail "the data key (second value) is empty"
[ -n "$result_path" ] || fail "the result path (third value) is empty"
group="${data_key%%/*}"
[ -n "$group" ] && [ "$group" != "$data_key" ] || fail "the data key $data_key is not inside a group folder"
case "$result_path" in
  "$group"/*) results_key="$result_path" ;;
  *) results_key="$group/$result_path" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/ncap-job.XXXXXX")"
trap 'rm -rf "$work"; power_off_later' EXIT
inputs="$work/inputs"
configs="$work/configs"
results="$work/process_results"
mkdir -p "$inputs" "$configs" "$results"

# Quote a string for JSON (file names come from S3 keys and may hold quotes).
json_string() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\t'/\\t}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  printf '"%s"' "$s"
}

download() { # KEY DEST_FOLDER
  local key="$1" dest="$2"
  if [[ "$key" == */ ]]; then
    aws s3 cp --only-show-errors --recursive "s3://$bucket/$key" "$dest/" ||
      fail "could not download the folder s3://$bucket/$key"
    [ -n "$(ls -A "$dest")" ] || fail "the folder s3://$bucket/$key is empty"
  else
    aws s3 cp --only-show-errors "s3://$bucket/$key" "$dest/$(basename "$key")" ||
      fail "could not download s3://$bucket/$key (does the key exist?)"
  fi
}

log "job: bucket=$bucket data=$data_key results=$results_key config=${config_key:-none}"
download "$data_key" "$inputs"
if [ -n "$config_key" ]; then download "$config_key" "$configs"; fi
log "downloaded $(find "$inputs" -type f | wc -l | tr -d ' ') input file(s)"

# ==== PUT YOUR ANALYSIS HERE ==================================================
# Inputs are in "$inputs", the config (when given) in "$configs". Write what the
# user should get back into "$results": all of it is uploaded to
#   s3://$bucket/<group>/<result path>/process_results/
# The body below is a placeholder so a fresh pipeline runs end to end: for each
# input it writes <input>.summary.json with the input's size and sha256, and it
# keeps a copy of the config it used. Replace it with your analysis; exit non-zero
# (or let a command fail) to mark the dataset FAILED.
analyze() {
  local file name key bytes sha
  while IFS= read -r -d '' file; do
    # A folder's files keep their relative path in the name (a/b.tif -> a__b.tif).
    name="${file#"$inputs"/}"
    key="$data_key"
    if [[ "$data_key" == */ ]]; then key="$data_key$name"; fi
    name="${name//\//__}"
    bytes="$(wc -c <"$file" | tr -d ' ')"
    sha="$(sha256sum "$file" | cut -d ' ' -f 1)"
    {
      printf '{\n'
      printf '  "input": %s,\n' "$(json_string "$name")"
      printf '  "key": %s,\n' "$(json_string "$key")"
      printf '  "bytes": %s,\n' "$bytes"
      printf '  "sha256": "%s",\n' "$sha"
      printf '  "config": %s\n' "$(json_string "$config_key")"
      printf '}\n'
    } >"$results/$name.summary.json"
    log "analyzed $name: $bytes bytes, sha256 $sha"
  done < <(find "$inputs" -type f -print0 | sort -z)
  if [ -n "$config_key" ]; then cp "$configs/$(basename "$config_key")" "$results/"; fi
}
analyze
# ==== END OF YOUR ANALYSIS ====================================================

aws s3 cp --only-show-errors --recursive "$results" "s3://$bucket/$results_key/process_results/" ||
  fail "could not upload the results to s3://$bucket/$results_key/process_results/"
log "uploaded $(find "$results" -type f | wc -l | tr -d ' ') result file(s) to s3://$bucket/$results_key/process_results/"
