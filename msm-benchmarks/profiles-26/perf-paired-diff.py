#!/usr/bin/env python3
"""The two Tomcat JVMs of a perf-paired.sh recording (a row and its anchor, loaded in the same seconds): CPU per
request of each one's request and poller threads (http-nio-*), by group (perf-diff.py's groups) and by symbol, and
the row's minus the anchor's. Requests per second: the medians of the run's per-slice figures (in each slice the
anchor's line comes first). A sample counts for the innermost frame.

Usage: perf-paired-diff.py <prefix> [lines, default 40]
"""
import collections, importlib.util, os, re, statistics, sys

spec = importlib.util.spec_from_file_location('perfdiff', os.path.join(os.path.dirname(__file__), 'perf-diff.py'))
perfdiff = importlib.util.module_from_spec(spec)
spec.loader.exec_module(perfdiff)
HZ, SECONDS = 999, 30

prefix = sys.argv[1]
lines = int(sys.argv[2]) if len(sys.argv) > 2 else 40
pids = {}
for line in open(prefix + '.pids'):
    pid, args = line.split(None, 1)
    pids[pid] = 'anchor' if 'StandardManager' in args.split('AnchorTomcat', 1)[1].split()[0] else 'row'
rates = {'anchor': [], 'row': []}
pending = None
for line in open(prefix + '.out'):
    if re.match(r'\s+(?:change|read) \S+\s+.+slice \d+', line):
        pending = ['anchor', 'row']
        continue
    m = re.match(r'\s+([\d,]+) req/s', line)
    if m and pending:
        rates[pending.pop(0)].append(float(m.group(1).replace(',', '')))
rate = {k: statistics.median(v) for k, v in rates.items()}

per = {'anchor': collections.Counter(), 'row': collections.Counter()}
for (comm, pid), counts in perfdiff.innermost_by_thread(prefix).items():
    if comm.startswith('http-nio') and pid in pids:
        per[pids[pid]].update(counts)
unit = {k: 1e6 / HZ / SECONDS / rate[k] for k in rate}
ca, cb = per['row'], per['anchor']
ua, ub = unit['row'], unit['anchor']
print(f"req/s (median of slices): row {rate['row']:,.0f}, anchor {rate['anchor']:,.0f}")
print(f'request and poller threads, µs per request: row {sum(ca.values()) * ua:.1f}, anchor {sum(cb.values()) * ub:.1f}')
ga, gb = collections.Counter(), collections.Counter()
for k, v in ca.items():
    ga[perfdiff.group(k)] += v
for k, v in cb.items():
    gb[perfdiff.group(k)] += v
print(f"{'group':14s} {'row':>7s} {'anchor':>7s} {'diff':>7s}")
for g in sorted(set(ga) | set(gb), key=lambda g: -(ga[g] * ua)):
    print(f'{g:14s} {ga[g] * ua:7.2f} {gb[g] * ub:7.2f} {ga[g] * ua - gb[g] * ub:7.2f}')
rows = sorted(set(ca) | set(cb), key=lambda k: -(ca[k] * ua - cb[k] * ub))
print('\nmost more in the row (µs per request: diff, row, anchor):')
for k in rows[:lines]:
    print(f'{ca[k] * ua - cb[k] * ub:6.2f} {ca[k] * ua:6.2f} {cb[k] * ub:6.2f}  {k[:140]}')
print('\nmost less in the row:')
for k in rows[-10:]:
    print(f'{ca[k] * ua - cb[k] * ub:6.2f} {ca[k] * ua:6.2f} {cb[k] * ub:6.2f}  {k[:140]}')
