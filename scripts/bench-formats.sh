#!/usr/bin/env bash
# Decode and prefill speed of the same Llama-2-7B shapes stored as BinaryMoS, Q8_0 and F16, in one run, with the
# ratios of docs/BENCHMARKS.md (Performance). Writes the synthetic models to DIR (default /tmp/binmos-formats; 21 GB
# the first time, kept for later runs). PROMPT and GEN set the tokens (default 64 and 32); JAVA_OPTS the JVM flags.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/binmos-formats}
prompt=${PROMPT:-64}
gen=${GEN:-32}
tokenizer=$here/../shared/models/tokenizer-llama2-32k.bin
bm() { BINMOS_JAVA_OPTS="${JAVA_OPTS:--Xmx1g}" "$here/binmos" "$@"; }
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }
mkdir -p "$dir"
for format in binarymos q8_0 f16; do
  [ -f "$dir/7b-$format.gguf" ] || bm synth --shape llama2-7b --format "$format" --tokenizer "$tokenizer" --out "$dir/7b-$format.gguf" >&2
done
declare -A decode prefill fraction bytes
for format in binarymos q8_0 f16; do
  json=$(bm bench --model "$dir/7b-$format.gguf" --prompt-tokens "$prompt" --gen-tokens "$gen" --kv-type f16 --json)
  echo "$json" >&2
  decode[$format]=$(echo "$json" | field decode_tokens_per_s)
  prefill[$format]=$(echo "$json" | field prefill_tokens_per_s)
  fraction[$format]=$(echo "$json" | field fraction_of_limit)
  bytes[$format]=$(echo "$json" | field weight_bytes_per_token)
done
echo "| format | weight bytes per token | decode tokens/s | fraction of the bandwidth limit | prefill tokens/s | BinaryMoS decode / this |"
echo "|---|---|---|---|---|---|"
for format in binarymos q8_0 f16; do
  awk -v f="$format" -v b="${bytes[$format]}" -v d="${decode[$format]}" -v fr="${fraction[$format]}" -v p="${prefill[$format]}" \
      -v m="${decode[binarymos]}" 'BEGIN { printf "| %s | %.0f | %.3f | %.1f%% | %.3f | %.2f× |\n", f, b, d, 100 * fr, p, m / d }'
done
