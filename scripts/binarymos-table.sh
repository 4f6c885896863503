#!/usr/bin/env bash
# The "BinaryMoS training" table of docs/BENCHMARKS.md for stories260K: perplexity of FP32, plain sign
# (one scale per matrix), the SVD initialisation and trained E=1 / E=4 students, on the reference text
# and on held-out text sampled from the teacher. Prints the table (markdown) and the wall time.
# Everything it writes goes to .cache/ (git-ignored); the trained E=4 model is the one the suite serves:
# .cache/models/stories260K-binarymos-e4.gguf. STEPS overrides the training steps (default 2000),
# BINMOS the binmos launcher (default ./binmos).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
model=$here/../shared/models/stories260K.bin
reference=$here/../shared/reference/tinystories_sample.txt
work=$here/.cache/binarymos-table
e4=$here/.cache/models/stories260K-binarymos-e4.gguf
steps=${STEPS:-2000}
cd "$here"
start=$(date +%s)
mkdir -p "$work" "$(dirname "$e4")"
bm() { "${BINMOS:-$here/binmos}" "$@"; }
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }

# held-out stories: sampled with seed 1001, the training sequences with the default --sample-seed 1
bm teacher-text --model "$model" --count 200 --length 512 --seed 1001 --out "$work/heldout.txt" >&2

train() { # name, then train options; prints the summary JSON
  local out=$1; shift
  bm train --model "$model" --out "$out" --checkpoint "$work/$(basename "$out").ckpt" --json "$@"
}
bits=()
bits[1]=$(train "$work/sign-e1.gguf" --experts 1 --init mean-abs --steps 0 | field linear_bits_per_weight)
bits[2]=$(train "$work/svd-e1.gguf" --experts 1 --steps 0 | field linear_bits_per_weight)
bits[3]=$(train "$work/trained-e1.gguf" --experts 1 --steps "$steps" | tee "$work/trained-e1.json" | field linear_bits_per_weight)
bits[4]=$(train "$e4" --experts 4 --steps "$steps" | tee "$work/trained-e4.json" | field linear_bits_per_weight)

names=("FP32 teacher (stories260K.bin)" "sign only, α = mean|W| per matrix (E = 1)" "SVD init, E = 1 (= binarize)"
       "trained E = 1, $steps steps" "trained E = 4, $steps steps")
files=("$model" "$work/sign-e1.gguf" "$work/svd-e1.gguf" "$work/trained-e1.gguf" "$e4")
bits[0]=32
echo "| model | file bytes | bits per weight (block linears) | perplexity, reference text | perplexity, held-out teacher text |"
echo "|---|---|---|---|---|"
for i in 0 1 2 3 4; do
  ref=$(bm perplexity --model "${files[$i]}" --text "$reference" --context 512 --json | field perplexity)
  held=$(bm perplexity --model "${files[$i]}" --text "$work/heldout.txt" --context 512 --json | field perplexity)
  printf '| %s | %s | %.4f | %.4f | %.4f |\n' "${names[$i]}" "$(stat -c %s "${files[$i]}")" "${bits[$i]}" "$ref" "$held"
done
echo
echo "wall time: $(( $(date +%s) - start )) s"
