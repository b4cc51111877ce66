#!/usr/bin/env python3
"""Request-thread samples whose stack holds any of the given frames (Class.method; msm classes without 'io.msm.').

Usage: inclusive.py <recording.jfr> <frame> [frame...]   e.g. tomcat.MemcachedSession.activate
"""
import sys
from count import events, group

path, wanted = sys.argv[1], set(sys.argv[2:])
total = hit = 0
for thread, frames, _, _ in events(path, 'jdk.ExecutionSample'):
    if group(thread) != 'request':
        continue
    total += 1
    if any((c.replace('io.msm.', '') + '.' + m) in wanted for c, m, _ in frames):
        hit += 1
print(f'{path}: {hit} of {total} request-thread samples ({100.0 * hit / max(total, 1):.1f}%) hold {sorted(wanted)}')
