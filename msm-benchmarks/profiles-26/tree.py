#!/usr/bin/env python3
"""Request threads' perf samples of a perf-own-jvm.sh recording that are not under a memcached call, as a tree of
msm's frames (io.msm, not the benchmark's), inclusive, µs per request; '(no msm)' holds the rest (Tomcat, the kernel).
A JIT-compiled method holds what it inlined, and inlining differs from run to run: compare trees of one recording
with care, and two with more.

Usage: tree.py <prefix> [depth, default 6] [smallest µs shown, default 0.1]
"""
import collections, re, subprocess, sys
HZ, SECONDS = 999, 8
prefix = sys.argv[1]; depth = int(sys.argv[2]) if len(sys.argv) > 2 else 6; minus = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
ROW = re.compile(r'^\s+(?:change|read) \S+\s+.+?\s+([\d,]+) req/s')
rate = next(float(m.group(1).replace(',', '')) for m in map(ROW.match, open(prefix + '.out')) if m)
out = subprocess.run(['perf', 'script', '-i', prefix + '.data', '-F', 'comm,tid,ip,sym'], capture_output=True, text=True).stdout
per = 1e6 / (HZ * SECONDS) / rate
tree = collections.Counter(); io = 0; total = 0
stack, comm = [], None
IO = ('DirectConnections.run', 'TextConnection.', 'DirectConnections.send')
def short(s):
    m = re.search(r'([\w$]+\.[\w$<>]+)\(', s); return m.group(1) if m else s[:40]
def flush():
    global io, total
    if not (comm and comm.startswith('http-nio') and stack): return
    total += 1
    if any(any(k in s for k in IO) for s in stack): io += 1; return
    path = [short(s) for s in reversed(stack) if 'io.msm' in s and 'benchmarks' not in s]
    for i in range(min(depth, len(path))):
        tree[tuple(path[:i+1])] += 1
    if not path: tree[('(no msm)',)] += 1
for line in out.splitlines():
    if not line.strip(): flush(); stack, comm = [], None
    elif not line[0].isspace(): comm = line.split()[0]
    else:
        f = line.strip().split(None, 1); stack.append(f[1] if len(f) > 1 else '?')
flush()
print(f'rate {rate:.0f}; total {total*per:.1f} µs/req; under memcached I/O {io*per:.1f}')
for k in sorted(tree, key=lambda k: k):
    v = tree[k]*per
    if v >= minus: print(f'{v:6.2f} ' + '  '*(len(k)-1) + k[-1])
