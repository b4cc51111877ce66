#!/bin/bash
# Profiles the in-process rows, one JVM per (row, workload): 12 s warm-up, 20 s measured; JFR (settings=profile)
# records 16 s inside the measured window. Usage: run-profiles.sh <outdir> <jar> [row...]
set -u
out=$1; jar=$2; shift 2
rows=("$@")
[ ${#rows[@]} -eq 0 ] && rows=("msm sticky java" "msm sticky kryo" "msm non-sticky java" "msm non-sticky kryo")
mkdir -p "$out"
for row in "${rows[@]}"; do
  for wl in "change 2KB" "read 2KB"; do
    tag=$(echo "$row $wl" | tr ' ' '-' | tr -d '=')
    java -XX:StartFlightRecording=filename="$out/$tag.jfr",settings=profile,method-profiling=max,delay=16s,duration=16s \
      -cp "$jar" io.msm.benchmarks.e2e.EndToEndBenchmark --warmup 12 --measure 20 \
      --rows "$row" --workloads "$wl" > "$out/$tag.out" 2>&1
  done
done
