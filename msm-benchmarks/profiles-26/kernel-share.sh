#!/bin/bash
# How a row's server CPU per request splits between user space and the kernel, and how many context switches and
# wake-ups each request brings about: own-JVM rows of EndToEndBenchmark, alternated round by round (A B A B ...), so
# a drift of the machine falls on every row alike. Per row and round: 10 s warm-up, 24 s measured; inside the
# measured window, 8 s of the Tomcat JVM's /proc/<pid>/stat (user and system ticks, every thread) and of
# `perf stat` (its context switches; sched_wakeup machine-wide: memcached's, the clients' and Tomcat's own threads).
# Needs root for perf (machine-wide tracepoints); run nothing else meanwhile.
# Usage: kernel-share.sh <benchmarks.jar> <workload> <rounds> <out-dir> <row>...
#   e.g. kernel-share.sh benchmarks.jar "read 2KB" 3 /tmp/ks "floor: memcached calls only (own JVM)" \
#          "msm non-sticky kryo (own JVM)"
# Prints one line per row and round (req/s; µs per request: user, system; per request: Tomcat's context switches,
# wake-ups machine-wide), then per row the medians.
set -u
jar=$1; wl=$2; rounds=$3; out=$4; shift 4
mkdir -p "$out"
tick=$(getconf CLK_TCK)
printf '%-40s %5s %9s %8s %8s %8s %9s\n' row round req/s user_us sys_us cs/req wakeup/req
for ((r = 1; r <= rounds; r++)); do
  i=0
  for row in "$@"; do
    i=$((i + 1)); f="$out/r$r-$i"
    java -cp "$jar" io.msm.benchmarks.e2e.EndToEndBenchmark --warmup 10 --measure 24 --rows "$row" \
      --workloads "$wl" > "$f.out" 2>&1 &
    bench=$!
    sleep 16
    tomcat=$(pgrep -P "$bench" '^java$' | head -1)
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$tomcat/stat")
    perf stat -x, -e context-switches -p "$tomcat" -o "$f.cs" -- sleep 8 > /dev/null 2>&1 &
    counting=$!
    perf stat -x, -a -e sched:sched_wakeup -o "$f.wk" -- sleep 8 > /dev/null 2>&1
    wait $counting
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$tomcat/stat")
    wait $bench
    rate=$(grep -m1 -E '^\s+(change|read) \S+\s+.+ req/s' "$f.out" | sed -E 's/.* ([0-9,]+) req\/s.*/\1/' | tr -d ,)
    cs=$(awk -F, '/context-switches/ {print $1}' "$f.cs")
    wk=$(awk -F, '/sched_wakeup/ {print $1}' "$f.wk")
    awk -v row="$row" -v r=$r -v rate="$rate" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v cs="$cs" -v wk="$wk" \
      -v tick="$tick" 'BEGIN {
        n = rate * 8
        printf "%-40s %5d %9d %8.1f %8.1f %8.2f %9.2f\n", row, r, rate, u * 1e6 / tick / n, s * 1e6 / tick / n,
          cs / n, wk / n }' | tee -a "$out/lines"
  done
done
echo
echo "medians:"
for row in "$@"; do
  grep -F "$row " "$out/lines" | awk -v row="$row" '
    { rate[NR] = $(NF-4); u[NR] = $(NF-3); s[NR] = $(NF-2); cs[NR] = $(NF-1); wk[NR] = $NF }
    function med(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { printf "%-40s %9d %8.1f %8.1f %8.2f %9.2f\n", row, med(rate, NR), med(u, NR), med(s, NR), med(cs, NR),
          med(wk, NR) }'
done
