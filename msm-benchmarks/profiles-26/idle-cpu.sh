#!/bin/bash
# CPU time of an idle msm Tomcat (sticky, two memcached nodes, no requests), by thread, from the kernel's per-thread
# schedstat (nanoseconds): 10 s (or $WARM) after start, over $2 seconds. Needs the memcached binary; as root, memcached runs as
# nobody. Usage: idle-cpu.sh <benchmarks.jar> [seconds, 20] [first of two free ports, 23411]
J=$1; T=${2:-20}; B=${3:-23411}
memcached -u nobody -l 127.0.0.1 -p $B -U 0 -d -P /tmp/mc1-$B.pid; memcached -u nobody -l 127.0.0.1 -p $((B+1)) -U 0 -d -P /tmp/mc2-$B.pid
sleep 0.5
java -cp $J io.msm.benchmarks.e2e.AnchorTomcat io.msm.tomcat.MemcachedSessionManager sticky=true memcachedNodes=n1:127.0.0.1:$B,n2:127.0.0.1:$((B+1)) > /tmp/idle-tc.log 2>&1 &
P=$!; sleep ${WARM:-10}
snap() { for t in /proc/$P/task/*; do echo "$(basename $t) $(cat $t/comm | tr ' ' _) $(cut -d' ' -f1 $t/schedstat)"; done; }
snap > /tmp/s1; sleep $T; snap > /tmp/s2
join /tmp/s1 /tmp/s2 | awk -v T=$T '{d=($5-$3)/1e6/T; tot+=d; if ($2 ~ /msm/) {msm+=d; printf "  %-18s %6.2f ms/s\n",$2,d}} END{printf "  msm threads %.2f ms/s, process %.2f ms/s\n", msm, tot}'
kill $P; kill $(cat /tmp/mc1-$B.pid) $(cat /tmp/mc2-$B.pid)
