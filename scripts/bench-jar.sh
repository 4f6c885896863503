# Sourced by bench/jmh, bench/ab and bench/lookup: sets BINMOS_BENCH_JAR to the benchmarks jar, rebuilding it
# (with the engine) when it is missing or older than the engine's or the bench module's sources.
binmos_bench_jar() {
  local root=$1
  BINMOS_BENCH_JAR="$root/bench/target/benchmarks.jar"
  if [ ! -f "$BINMOS_BENCH_JAR" ] || [ -n "$(find "$root/engine/src/main" "$root/bench/src" -newer "$BINMOS_BENCH_JAR" -print -quit)" ]; then
    "$root/mvn25" -B -q -pl bench -am -Dmaven.test.skip=true install >&2
  fi
}
