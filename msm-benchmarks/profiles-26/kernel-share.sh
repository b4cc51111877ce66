#!/bin/bash
# How a row's server CPU per request splits between user space and the kernel, and how many context switches and
# wake-ups each request brings about: own-JVM rows of EndToEndBenchmark, alternated round by round (A B C, then
# C B A, ...), so a drift of the machine falls on every row alike. Per row and round: 10 s warm-up, 24 s measured;
# inside the measured window, 8 s of the Tomcat JVM's /proc/<pid>/stat (user and system ticks, every thread) and of
# `perf stat` (its context switches; sched_wakeup machine-wide: memcached's, the clients' and Tomcat's own threads).
# The machine-wide tracepoint costs some kernel time itself, every row alike: compare rows, not runs.
# Needs root for perf (machine-wide tracepoints); run nothing else meanwhile.
# Usage: kernel-share.sh <benchmarks.jar> <workload> <rounds> <out-dir> <row>...
#   e.g. kernel-share.sh benchmarks.jar "read 2KB" 3 /tmp/ks "floor: memcached calls only (own JVM)" \
#          "msm non-sticky kryo (own JVM)"
# Prints one line per row and round (req/s; µs per request: user, system; per request: Tomcat's context switches,
# wake-ups machine-wide), then per row the medians of the rounds, and the medians of each row's difference from the
# first row in the same round.
set -u
jar=$1; wl=$2; rounds=$3; out=$4; shift 4
rows=("$@")
mkdir -p "$out"
rm -f "$out/lines"
tick=$(getconf CLK_TCK)
fail() { echo "kernel-share.sh: $*" >&2; exit 1; }
printf '%-40s %5s %9s %8s %8s %8s %9s\n' row round req/s user_us sys_us cs/req wakeup/req
for ((r = 1; r <= rounds; r++)); do
  order=$(seq 0 $((${#rows[@]} - 1)))
  if ((r % 2 == 0)); then order=$(seq $((${#rows[@]} - 1)) -1 0); fi
  for i in $order; do
    row=${rows[$i]}; f="$out/r$r-$i"
    java -cp "$jar" io.msm.benchmarks.e2e.EndToEndBenchmark --warmup 10 --measure 24 --rows "$row" \
      --workloads "$wl" > "$f.out" 2>&1 &
    bench=$!
    sleep 16
    tomcat=$(pgrep -P "$bench" '^java$' | head -1)
    [ -n "$tomcat" ] || fail "round $r, $row: no Tomcat JVM under the benchmark (pid $bench); see $f.out"
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
    [[ "$rate" =~ ^[0-9]+$ && "$rate" -gt 0 ]] || fail "round $r, $row: no request rate in $f.out"
    [[ "$cs" =~ ^[0-9]+$ && "$wk" =~ ^[0-9]+$ ]] || fail "round $r, $row: perf stat gave no counts ($f.cs, $f.wk)"
    # one line per row and round: row index, round, then the figures (the row's name only in the printed line)
    awk -v i="$i" -v row="$row" -v r=$r -v rate="$rate" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v cs="$cs" \
      -v wk="$wk" -v tick="$tick" -v lines="$out/lines" 'BEGIN {
        n = rate * 8
        v = sprintf("%9d %8.1f %8.1f %8.2f %9.2f", rate, u * 1e6 / tick / n, s * 1e6 / tick / n, cs / n, wk / n)
        printf "%-40s %5d %s\n", row, r, v
        print i, r, v >> lines }'
  done
done
echo
echo "medians of the rounds; then of each row's difference from the first row's figures in the same round:"
for ((i = 0; i < ${#rows[@]}; i++)); do
  awk -v i="$i" -v row="${rows[$i]}" '
    function med(a, n,   j, k, t) {
      for (j = 1; j <= n; j++) for (k = j + 1; k <= n; k++) if (a[k] < a[j]) { t = a[j]; a[j] = a[k]; a[k] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    $1 == 0 { for (c = 3; c <= 7; c++) first[$2, c] = $c }
    $1 == i { n++; round[n] = $2; for (c = 3; c <= 7; c++) v[n, c] = $c }
    END {
      line = sprintf("%-40s", row)
      for (c = 3; c <= 7; c++) { for (k = 1; k <= n; k++) a[k] = v[k, c]; line = line sprintf(" %9.2f", med(a, n)) }
      if (i > 0) {
        line = line "   diff:"
        for (c = 3; c <= 7; c++) {
          for (k = 1; k <= n; k++) a[k] = v[k, c] - first[round[k], c]
          line = line sprintf(" %+8.2f", med(a, n))
        }
      }
      print line }' "$out/lines"
done
