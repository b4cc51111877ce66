#!/usr/bin/env python3
"""Counts a JFR recording's request-thread and msm-thread samples by innermost msm frame, and allocation by msm site.

Usage: count.py <recording.jfr> <requests in the recording> [top N]
Reads `jfr print --stack-depth 256` (text). A sample or allocation is msm's when a frame of io.msm.* (not
io.msm.benchmarks) is on its stack and the innermost such frame did not only hand the request on: the valve's
getNext().invoke (the webapp and Tomcat), a ResponseGuard frame calling the response it wraps, and an override calling
Tomcat's own method of the same name (super.x(), which StandardManager pays too) are counted apart, as handed on.
"""
import collections, re, subprocess, sys

FRAME = re.compile(r'^\s+([\w$.]+)\.([\w$<>]+)\((.*?)\)\s+line: (-?\d+)')

def events(path, kind):
    out = subprocess.run(['jfr', 'print', '--stack-depth', '256', '--events', kind, path],
                         capture_output=True, text=True, check=True).stdout
    for block in out.split('\n' + kind + ' {')[1:] if not out.startswith(kind) else out.split(kind + ' {')[1:]:
        thread = re.search(r'(?:sampledThread|eventThread) = "([^"]*)"', block)
        weight = re.search(r'weight = ([\d.]+) (bytes|kB|MB|GB)', block)
        cls = re.search(r'objectClass = ([\w$.\[\]]+)', block)
        frames = [(m.group(1), m.group(2), int(m.group(4))) for m in map(FRAME.match, block.split('\n')) if m]
        w = 0
        if weight:
            w = float(weight.group(1)) * {'bytes': 1, 'kB': 1024, 'MB': 1 << 20, 'GB': 1 << 30}[weight.group(2)]
        yield (thread.group(1) if thread else '?'), frames, w, (cls.group(1) if cls else '')

def group(thread):
    if thread.startswith('http-') and '-exec-' in thread:
        return 'request'
    if thread.startswith('msm-') or thread.startswith('Memcached IO'):
        return 'msm'
    return None

def is_msm(cls):
    return cls.startswith('io.msm.') and not cls.startswith('io.msm.benchmarks.')

# Tomcat types an msm frame may call into only to run Tomcat's own code (the webapp, the pipeline, the base classes)
PASS_ON = ('org.apache.catalina.core.', 'org.apache.catalina.connector.', 'org.apache.catalina.session.StandardSession',
           'org.apache.catalina.authenticator.', 'javax.servlet.')

def site(frames):
    """(key, kind): the innermost msm frame and whether the sample is msm's own ('own') or handed on ('passed')."""
    for i, (cls, meth, line) in enumerate(frames):
        if is_msm(cls):
            key = cls.replace('io.msm.', '') + '.' + meth
            callee, callee_meth = (frames[i - 1][0], frames[i - 1][1]) if i > 0 else ('', '')
            if i > 0 and callee.startswith(PASS_ON) and (meth in ('invoke', 'continueAsync')
                                                         or cls.endswith('ResponseGuard')
                                                         or callee_meth == meth):  # super.x(): Tomcat's own work
                return key, 'passed'
            return key + (':' + str(line) if i > 0 else ''), 'own'
    return None, None

def thread_allocation(path):
    """Exact bytes each thread group allocated during the recording (jdk.ThreadAllocationStatistics, first to last)."""
    import json
    out = subprocess.run(['jfr', 'print', '--json', '--events', 'jdk.ThreadAllocationStatistics', path],
                         capture_output=True, text=True, check=True).stdout
    first, last = {}, {}
    for e in json.loads(out)['recording']['events']:
        v = e['values']
        t = v['thread']
        key = (t['javaName'], t['javaThreadId'])
        first.setdefault(key, v['allocated'])
        last[key] = v['allocated']
    by = collections.Counter()
    for key in last:
        g = group(key[0])
        if g:
            by[g] += last[key] - first[key]
    return by

def main():
    path, requests = sys.argv[1], float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    totals = collections.Counter()
    own = {'request': collections.Counter(), 'msm': collections.Counter()}
    passed = collections.Counter()
    for thread, frames, _, _ in events(path, 'jdk.ExecutionSample'):
        g = group(thread)
        if g is None:
            continue
        totals[g] += 1
        key, kind = site(frames)
        if kind == 'own':
            own[g][key] += 1
        elif kind == 'passed':
            passed[key] += 1
    alloc = {'request': collections.Counter(), 'msm': collections.Counter()}
    alloc_all = collections.Counter()
    for thread, frames, w, cls in events(path, 'jdk.ObjectAllocationSample'):
        g = group(thread)
        if g is None:
            continue
        alloc_all[g] += w
        key, kind = site(frames)
        if kind == 'own':
            alloc[g][key + ' [' + cls + ']'] += w
    exact = thread_allocation(path)
    print(f'# {path}: {requests:.0f} requests in the recording; allocated per request (exact, by thread): request'
          f' threads {exact["request"] / requests:,.0f} bytes, msm threads {exact["msm"] / requests:,.0f} bytes')
    for g in ('request', 'msm'):
        n = totals[g]
        mine = sum(own[g].values())
        print(f'\n## {g} threads: {n} samples, msm own {mine} ({100.0 * mine / max(n, 1):.1f}%)'
              + (f', handed on to Tomcat/webapp {sum(passed.values())}' if g == 'request' else ''))
        cats = collections.Counter()
        for k, c in own[g].items():
            pkg = k.split('.')[0]
            cats[{'serializer': 'serializer', 'store': 'store (the memcached calls)', 'codec': 'blob codec + hashing',
                  'internal': 'blob codec + hashing', 'engine': 'engine', 'tomcat': 'Tomcat adapter (valve, session,'
                  ' look-up)'}.get(pkg, 'other (config, node, stats)')] += c
        print('by part: ' + ', '.join(f'{name} {c} ({100.0 * c / max(n, 1):.1f}%)' for name, c in cats.most_common()))
        print()
        print('| innermost msm frame (line of the call it made) | samples | share of the threads\' samples |')
        print('|---|---:|---:|')
        for k, c in own[g].most_common(top):
            print(f'| {k} | {c} | {100.0 * c / max(n, 1):.1f}% |')
        a = sum(alloc[g].values())
        print(f'\n{g} threads allocated {alloc_all[g] / requests:,.0f} bytes/request, msm sites {a / requests:,.0f}'
              ' bytes/request (sampled weights)')
        print('| msm allocation site [class] | bytes/request |')
        print('|---|---:|')
        for k, c in alloc[g].most_common(top):
            print(f'| {k} | {c / requests:,.1f} |')

if __name__ == '__main__':
    main()
