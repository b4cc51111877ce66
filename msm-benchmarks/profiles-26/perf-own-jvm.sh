#!/bin/bash
# Profiles one own-JVM row of EndToEndBenchmark with Linux perf (cpu-clock, every thread, kernel included), so that
# CPU spent in the kernel (socket calls, wake-ups, context switches) is counted beside the Java code, and no Java frame
# is favoured by where the JVM can stop a thread (JFR's samples are). 10 s warm-up, 24 s measured; perf records 8 s
# inside the measured window. The Tomcat JVM's JIT symbols come from `jcmd <pid> Compiler.perfmap` (JDK 17+).
# perf record -a needs root (or perf_event_paranoid <= -1) and records the whole machine: run nothing else meanwhile.
# Usage: perf-own-jvm.sh <benchmarks.jar> <row> <workload> <out-prefix>
#   e.g. perf-own-jvm.sh benchmarks.jar "msm non-sticky kryo (own JVM)" "read 2KB" /tmp/p/msm-read
# Then: perf-diff.py <out-prefix A> <out-prefix B> [lines]
set -u
jar=$1; row=$2; wl=$3; out=$4
mkdir -p "$(dirname "$out")"
JAVA_TOOL_OPTIONS="-XX:+PreserveFramePointer" java -cp "$jar" io.msm.benchmarks.e2e.EndToEndBenchmark \
  --warmup 10 --measure 24 --rows "$row" --workloads "$wl" > "$out.out" 2>&1 &
bench=$!
sleep 16
perf record -e cpu-clock -F 999 -g -a -o "$out.data" -- sleep 8 > /dev/null 2>&1
# the row's Tomcat JVM, a child of the benchmark's JVM; java processes only (jcmd's attach signals SIGQUIT, which
# ends a memcached)
for pid in $(pgrep -P "$bench" '^java$'); do
  jcmd "$pid" Compiler.perfmap > /dev/null 2>&1
done
wait $bench
