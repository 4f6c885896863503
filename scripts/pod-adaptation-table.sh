#!/usr/bin/env bash
# The "PoD after adaptation" rows of docs/BENCHMARKS.md for stories260K: PoD (S = 4, W = 64, shared-keys) on the FP32
# model, on the BinaryMoS E = 4 student trained with dense attention, and on E = 4 students trained with PoD attention in
# their forward pass (PoD's post-training adaptation), for the calibrated groups and for one group of all layers.
# Needs scripts/binarymos-table.sh to have run (its held-out text and dense-trained student). Prints a markdown table and
# the wall time; writes to .cache/ only. STEPS overrides the training steps (default 2000).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
model=$here/../shared/models/stories260K.bin
reference=$here/../shared/reference/tinystories_sample.txt
work=$here/.cache/binarymos-table
heldout=$work/heldout.txt
dense_e4=$here/.cache/models/stories260K-binarymos-e4.gguf
steps=${STEPS:-2000}
calibrated="0,1-2,3,4;0,1,2-3,4;0-1,2,3,4;0-1,2,3,4"
one="0-4"
pod=(--pod-sinks 4 --pod-window 64 --pod-mode shared-keys)
cd "$here"
[ -f "$heldout" ] && [ -f "$dense_e4" ] || { echo "run scripts/binarymos-table.sh first" >&2; exit 1; }
start=$(date +%s)
bm() { "${BINMOS:-$here/binmos}" "$@"; }
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }

for g in calibrated one; do
  groups=${!g}
  out=$work/trained-e4-pod-$g.gguf
  [ -f "$out" ] || bm train --model "$model" --experts 4 --steps "$steps" --pod-groups "$groups" "${pod[@]}" \
    --checkpoint "$out.ckpt" --out "$out" --json >&2
done

row() { # name, model, then perplexity flags
  local name=$1 file=$2; shift 2
  local r h kv
  r=$(bm perplexity --model "$file" --text "$reference" --context 512 --json "$@")
  h=$(bm perplexity --model "$file" --text "$heldout" --context 512 --json "$@")
  printf '| %s | %s | %.4f | %.4f |\n' "$name" "$(echo "$h" | field kv_bytes)" "$(echo "$r" | field perplexity)" "$(echo "$h" | field perplexity)"
}
echo "| model, attention | KV bytes at T = 512 | ppl \`tinystories_sample.txt\` | ppl held-out teacher |"
echo "|---|---|---|---|"
row "FP32, dense" "$model" --kv-policy dense
for g in calibrated one; do
  groups=${!g}
  row "FP32, PoD $g groups, not adapted" "$model" --kv-policy pod --pod-groups "$groups" "${pod[@]}"
done
row "E = 4 trained dense, dense" "$dense_e4" --kv-policy dense
for g in calibrated one; do
  groups=${!g}
  row "E = 4 trained dense, PoD $g groups (not adapted)" "$dense_e4" --kv-policy pod --pod-groups "$groups" "${pod[@]}"
  row "E = 4 trained with PoD $g groups (adapted)" "$work/trained-e4-pod-$g.gguf"
done
echo
echo "wall time: $(( $(date +%s) - start )) s"
