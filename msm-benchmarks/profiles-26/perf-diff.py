#!/usr/bin/env python3
"""CPU per request of the Tomcat JVM's request and poller threads (http-nio-*), by group and by symbol, for two
perf-own-jvm.sh recordings, and their difference.

Usage: perf-diff.py <prefix A> <prefix B> [lines]

A sample counts for the innermost frame (a JIT-compiled method holds the methods it inlined, so its time is theirs
too). Groups: msm (io.msm, not the benchmark's valve), kryo, tomcat (org.apache, javax/jakarta.servlet), jdk
(java., jdk., sun.), other Java, jvm (interpreter, stubs, the JVM's own code), kernel/native (the rest: socket
calls, wake-ups, context switches). Requests per second: the row's figure in <prefix>.out (its measured window, which
holds the 8 s recorded). perf's sampling rate (-F 999) and span (8 s) are those of perf-own-jvm.sh.
"""
import collections, re, subprocess, sys

HZ, SECONDS = 999, 8
ROW = re.compile(r'^\s+(?:change|read) \S+\s+.+?\s+([\d,]+) req/s')


def rate(prefix):
    for line in open(prefix + '.out'):
        m = ROW.match(line)
        if m:
            return float(m.group(1).replace(',', ''))
    raise SystemExit(prefix + '.out: no row figure')


def innermost_by_thread(prefix):
    """(comm, pid) -> Counter of the innermost frames of that thread group's samples in <prefix>.data."""
    out = subprocess.run(['perf', 'script', '-i', prefix + '.data', '-F', 'comm,pid,tid,ip,sym'],
                         capture_output=True, text=True).stdout
    per = collections.defaultdict(collections.Counter)
    head, first = None, False
    for line in out.splitlines():
        if not line.strip():
            head = None
        elif not line[0].isspace():
            parts = line.split()
            head, first = (parts[0], parts[-1].split('/')[0]), True
        elif first and head:
            first = False
            fields = line.strip().split(None, 1)
            per[head][re.sub(r'\s*\(.*\)$', '', fields[1] if len(fields) > 1 else '?')] += 1
    return per


def samples(prefix):
    per = innermost_by_thread(prefix)
    pids = collections.Counter()
    for (comm, pid), c in per.items():
        if comm.startswith('http-nio'):
            pids[pid] += sum(c.values())
    tomcat = pids.most_common(1)[0][0]  # the JVM whose request threads ran most
    c = collections.Counter()
    for (comm, pid), cc in per.items():
        if pid == tomcat and comm.startswith('http-nio'):
            c.update(cc)
    return c


def group(sym):
    if ' io.msm.benchmarks' in sym:
        return 'benchmark'
    if ' io.msm.' in sym:
        return 'msm'
    if 'esotericsoftware' in sym or 'objenesis' in sym:
        return 'kryo'
    if ' org.apache.' in sym or 'servlet' in sym:
        return 'tomcat'
    if ' java.' in sym or ' jdk.' in sym or ' sun.' in sym:
        return 'jdk'
    if ' ' in sym and '.' in sym:
        return 'other java'
    if '::' in sym or sym.startswith(('Interpreter', 'StubRoutines')) or 'Stub' in sym:
        return 'jvm'
    return 'kernel/native'


def main():
    a, b = sys.argv[1], sys.argv[2]
    lines = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    ca, cb = samples(a), samples(b)
    ua = 1e6 / HZ / SECONDS / rate(a)
    ub = 1e6 / HZ / SECONDS / rate(b)
    print(f'request and poller threads, µs per request: A {sum(ca.values()) * ua:.1f} ({a}), '
          f'B {sum(cb.values()) * ub:.1f} ({b})')
    ga, gb = collections.Counter(), collections.Counter()
    for k, v in ca.items():
        ga[group(k)] += v
    for k, v in cb.items():
        gb[group(k)] += v
    print(f"{'group':14s} {'A':>7s} {'B':>7s} {'A-B':>7s}")
    for g in sorted(set(ga) | set(gb), key=lambda g: -(ga[g] * ua)):
        print(f'{g:14s} {ga[g] * ua:7.2f} {gb[g] * ub:7.2f} {ga[g] * ua - gb[g] * ub:7.2f}')
    rows = sorted(set(ca) | set(cb), key=lambda k: -(ca[k] * ua - cb[k] * ub))
    print(f'\nmost more in A (µs per request: A-B, A, B):')
    for k in rows[:lines]:
        print(f'{ca[k] * ua - cb[k] * ub:6.2f} {ca[k] * ua:6.2f} {cb[k] * ub:6.2f}  {k[:140]}')
    print(f'\nmost less in A:')
    for k in rows[-8:]:
        print(f'{ca[k] * ua - cb[k] * ub:6.2f} {ca[k] * ua:6.2f} {cb[k] * ub:6.2f}  {k[:140]}')


if __name__ == '__main__':
    main()
