#!/usr/bin/env python3
"""The backup threads' (msm-backup-*) perf samples of a perf-own-jvm.sh recording, as a tree from the session
runner's drain down, inclusive sample counts (one sample = about 1 ms of CPU at perf-own-jvm.sh's 999 Hz), and the
samples of every msm thread group. A JIT-compiled method holds what it inlined, so a frame's callers may be missing
from a stack: such stacks count under '<other>'.

Usage: backup-tree.py <prefix> [depth, default 12] [fewest samples shown, default 6]
"""
import collections, re, subprocess, sys

prefix = sys.argv[1]
depth = int(sys.argv[2]) if len(sys.argv) > 2 else 12
fewest = int(sys.argv[3]) if len(sys.argv) > 3 else 6
out = subprocess.run(['perf', 'script', '-i', prefix + '.data', '-F', 'comm,tid,ip,sym'],
                     capture_output=True, text=True).stdout


def short(s):
    s = re.sub(r'\(.*', '', s).split(' ')[-1]
    return s.replace('io.msm.', '').replace('com.esotericsoftware.kryo.', 'kryo.')


stacks, groups = [], collections.Counter()
comm, stack = None, []


def flush():
    if comm and comm.startswith('msm-'):
        groups[comm.rstrip('.0123456789-')] += 1
        if comm.startswith('msm-backup'):
            stacks.append(stack)


for line in out.splitlines():
    if not line.strip():
        flush()
        comm, stack = None, []
    elif not line[0].isspace():
        comm = line.split()[0]
    else:
        parts = line.strip().split(None, 1)
        stack.append(short(parts[1]) if len(parts) > 1 else '?')
flush()

tree = {}
for s in stacks:
    frames = list(reversed(s))
    start = next((i for i, f in enumerate(frames) if 'SessionRunner.drain' in f), None)
    frames = frames[start:] if start is not None else ['<other>'] + frames[-3:]
    node = tree
    for f in frames[:depth]:
        entry = node.setdefault(f, [0, {}])
        entry[0] += 1
        node = entry[1]


def show(node, indent):
    for name, (count, children) in sorted(node.items(), key=lambda e: -e[1][0]):
        if count >= fewest:
            print('  ' * indent + f'{count} {name}')
            show(children, indent + 1)


print('samples by msm thread group:', dict(groups))
print(f'backup threads: {len(stacks)} samples')
show(tree, 0)
