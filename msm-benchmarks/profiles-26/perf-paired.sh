#!/bin/bash
# Profiles a paired run (EndToEndBenchmark --paired true: the row's Tomcat and its anchor's, each in its own JVM, under
# load in the same seconds) with Linux perf (cpu-clock, every thread, kernel included), so both JVMs are sampled over
# the same seconds: what one costs more than the other does not depend on how fast the machine ran that minute.
# 60 s warm-up per JVM; perf records 30 s once the passes began. Needs root; run nothing else meanwhile.
# Usage: perf-paired.sh <benchmarks.jar> <row> <workload> <out-prefix>
#   then: perf-paired-diff.py <out-prefix> [lines]
set -u
jar=$1; row=$2; wl=$3; out=$4
mkdir -p "$(dirname "$out")"
JAVA_TOOL_OPTIONS="-XX:+PreserveFramePointer" java -cp "$jar" io.msm.benchmarks.e2e.EndToEndBenchmark \
  --paired true --warmup 60 --slices 30 --slice 2 --rows "$row" --workloads "$wl" > "$out.out" 2>&1 &
bench=$!
until grep -q "slice 2," "$out.out" 2>/dev/null; do
  kill -0 $bench 2>/dev/null || exit 1
  sleep 1
done
ps -o pid=,args= --ppid "$bench" | grep -E 'AnchorTomcat' > "$out.pids"
perf record -e cpu-clock -F 999 -g -a -o "$out.data" -- sleep 30 > /dev/null 2>&1
for pid in $(awk '{print $1}' "$out.pids"); do
  jcmd "$pid" Compiler.perfmap > /dev/null 2>&1
done
wait $bench
