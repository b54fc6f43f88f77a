#!/usr/bin/env python3
"""Oracles for the case scripts (tests/cases/*.sh): what the kernel's own
/proc/PID/maps text says, computed without taskvma, and checks of taskvma's
output against it.  Bytes throughout: /proc prints names as they are.

Usage: python3 tests/oracle.py COMMAND ARGS...  (each cmd_* below; a check
prints why and exits 1 when it fails).
"""
import contextlib, fnmatch, io, json, re, sys

LINE = re.compile(rb'^([0-9a-f]{8,16})-([0-9a-f]{8,16}) ([-r][-w][-x][ps]) ([0-9a-f]{8,16}) '
                  rb'([0-9a-f]{2,}):([0-9a-f]{2,}) (\d+) *(.*)$')

def lines(path):
    with open(path, 'rb') as f:
        return f.read().splitlines(keepends=True)

def fields(line):
    m = LINE.match(line.rstrip(b'\n'))
    if not m:
        raise SystemExit('not a maps line: %r' % line)
    s, e, perms, off, ma, mi, ino, name = m.groups()
    return dict(start=int(s, 16), end=int(e, 16), perms=perms.decode(), offset=int(off, 16),
                dev_major=int(ma, 16), dev_minor=int(mi, 16), inode=int(ino), name=name)

def kernel_line(r):
    """The kernel's layout (fs/proc/task_mmu.c): header ending in a space,
    padded to 72 when there is a name, then one more space and the name."""
    h = b'%08x-%08x %s %08x %02x:%02x %d ' % (r['start'], r['end'], r['perms'].encode(),
                                              r['offset'], r['dev_major'], r['dev_minor'], r['inode'])
    if r['name']:
        h = h.ljust(72) + b' ' + r['name']
    return h + b'\n'

def is_file(f):
    return f['name'].startswith(b'/')

def cmd_filter(args):
    """filter PROCFILE [perms=P] [file] [anon] [range=LO-HI] [name=GLOB]"""
    src, opts = args[0], args[1:]
    out = sys.stdout.buffer
    for l in lines(src):
        f = fields(l)
        ok = True
        for o in opts:
            if o.startswith('perms='):
                pat = o[6:]
                ok &= all(p == '?' or p == c for p, c in zip(pat, f['perms']))
            elif o == 'file':
                ok &= is_file(f)
            elif o == 'anon':
                ok &= not is_file(f)
            elif o.startswith('range='):
                lo, hi = (int(x, 16) for x in o[6:].split('-'))
                ok &= f['end'] > lo and f['start'] < hi
            elif o.startswith('name='):
                ok &= fnmatch.fnmatchcase(f['name'].decode('latin-1'), o[5:])
            else:
                raise SystemExit('bad filter ' + o)
        if ok:
            out.write(l)

def cmd_filter_each(args):
    """filter-each PROCFILE OUT SPEC...: filter's selection for each SPEC
    (its options separated by ';') into OUT.0, OUT.1, ... from one start."""
    for k, spec in enumerate(args[2:]):
        with open('%s.%d' % (args[1], k), 'wb') as f, contextlib.redirect_stdout(
                io.TextIOWrapper(f, write_through=True)) as w:
            cmd_filter([args[0]] + spec.split(';'))
            w.flush()
            w.detach()

def load_json(path):
    with open(path, 'rb') as f:
        raw = f.read()
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    text = raw.decode('utf-8')  # strict: JSON text is UTF-8
    return json.loads(text, parse_constant=bad_const)

def cmd_json_proc(args):
    """json-proc JSON PROCFILE PID COMM BACKEND: the document's records are
    /proc's lines, its processes entry is complete, no errors."""
    doc = load_json(args[0])
    proc = lines(args[1])
    pid, comm, backend = int(args[2]), args[3], args[4]
    errs = []
    if set(doc) < {'backend', 'mappings', 'processes', 'errors'}:
        errs.append('keys %s' % sorted(doc))
    if backend != 'auto' and doc.get('backend') != backend:
        errs.append('backend %r' % doc.get('backend'))
    if doc.get('backend') not in ('bpf', 'procmap', 'procfs'):
        errs.append('backend %r not a real backend' % doc.get('backend'))
    maps = doc.get('mappings', [])
    if len(maps) != len(proc):
        errs.append('%d mappings, /proc has %d lines' % (len(maps), len(proc)))
    kinds = {'file', 'anon', 'heap', 'stack', 'special', 'anon_named'}
    for m, l in zip(maps, proc):
        for k in ('pid', 'start', 'end', 'offset', 'dev_major', 'dev_minor', 'inode'):
            if type(m.get(k)) is not int:
                errs.append('%s is not a JSON integer in %r' % (k, m))
                break
        else:
            if m['pid'] != pid or m.get('comm') != comm:
                errs.append('pid/comm %r/%r' % (m['pid'], m.get('comm')))
            r = dict(m, name=m.get('name', '').encode('utf-8', 'surrogateescape'))
            if kernel_line(r) != l:
                errs.append('record %r\n    formats as %r\n    /proc has  %r' % (m, kernel_line(r), l))
            f = fields(l)
            want_kind = ('file' if is_file(f) else 'anon' if not f['name'] else
                         {b'[heap]': 'heap', b'[stack]': 'stack'}.get(f['name'], 'special'))
            if m.get('kind') not in kinds or m.get('kind') != want_kind:
                errs.append('kind %r, want %r for %r' % (m.get('kind'), want_kind, l))
        if len(errs) > 5:
            break
    ps = doc.get('processes', [])
    if ps != [{'pid': pid, 'comm': comm, 'complete': True, 'count': len(proc)}]:
        errs.append('processes %r' % ps)
    if doc.get('errors') != []:
        errs.append('errors %r' % doc.get('errors'))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def cmd_json_same(args):
    """json-same J1 J2...: identical "mappings" arrays."""
    docs = [load_json(a) for a in args]
    for a, d in zip(args[1:], docs[1:]):
        if d['mappings'] != docs[0]['mappings']:
            for i, (x, y) in enumerate(zip(docs[0]['mappings'], d['mappings'])):
                if x != y:
                    print('%s differs from %s at record %d: %r vs %r' % (a, args[0], i, y, x))
                    sys.exit(1)
            print('%s: %d records, %s: %d' % (args[0], len(docs[0]['mappings']), a, len(d['mappings'])))
            sys.exit(1)

HDR = re.compile(rb'^==> (\d+) \((.*)\) <==\n$')

def blocks(path):
    """Split multi-process output into [(pid, comm, [lines])]; checks the
    layout: header, lines, one blank line before each further header."""
    ls = lines(path)
    out, i = [], 0
    while i < len(ls):
        m = HDR.match(ls[i])
        if not m:
            raise SystemExit('line %d: expected a "==> PID (COMM) <==" header, got %r' % (i + 1, ls[i]))
        i += 1
        body = []
        while i < len(ls) and ls[i] != b'\n':
            if HDR.match(ls[i]):
                raise SystemExit('line %d: header without the blank line before it' % (i + 1))
            fields(ls[i])
            body.append(ls[i])
            i += 1
        if i < len(ls):  # the blank line: must be followed by a header
            i += 1
            if i == len(ls):
                raise SystemExit('blank line at the end of the output')
        out.append((int(m.group(1)), m.group(2), body))
    return out

def cmd_blocks(args):
    """blocks OUT [PID OUTFILE]...: well-formed, each pid once (order: maps_errors.sh);
    writes each requested pid's block to OUTFILE."""
    bs = blocks(args[0])
    pids = [b[0] for b in bs]
    if len(set(pids)) != len(pids):
        raise SystemExit('a pid appears twice')
    want = dict(zip(args[1::2], args[2::2]))
    for pid, comm, body in bs:
        if str(pid) in want:
            with open(want.pop(str(pid)), 'wb') as f:
                f.write(b''.join(body))
    if want:
        raise SystemExit('no block for pid(s) %s' % ' '.join(want))
    print(len(bs))

def cmd_check_fixture(args):
    """check-fixture PROCFILE DIR: the mapper made what it says."""
    proc, d = lines(args[0]), args[1].encode()
    fs = [fields(l) for l in proc]
    names = [f['name'] for f in fs]
    want = {
        'file mapped at offset 0x2000': any(f['name'] == d + b'/offset.dat' and f['offset'] == 0x2000
                                            and f['perms'] == 'r--p' for f in fs),
        'r-xp file mapping': any(f['name'] == d + b'/offset.dat' and f['perms'] == 'r-xp' for f in fs),
        'deleted file': d + b'/deleted.dat (deleted)' in names,
        'memfd': b'/memfd:tvtest (deleted)' in names,
        'shared anonymous': any(f['name'] == b'/dev/zero (deleted)' and f['perms'] == 'rw-s' for f in fs),
        'newline as \\012': d + b'/new\\012line.dat' in names,
        'spaces': d + b'/with space  s.dat' in names,
        'trailing space': d + b'/trailing space.dat ' in names,
        'guard page ---p between rw-p': any(fs[i]['perms'] == '---p' and not fs[i]['name'] and
                                            fs[i - 1]['perms'] == 'rw-p' and fs[i + 1]['perms'] == 'rw-p' and
                                            fs[i - 1]['end'] == fs[i]['start'] and fs[i]['end'] == fs[i + 1]['start']
                                            for i in range(1, len(fs) - 1)),
        '[heap] >= 1 MiB': any(f['name'] == b'[heap]' and f['end'] - f['start'] >= 1 << 20 for f in fs),
        '[stack]': b'[stack]' in names,
        '[vdso]': b'[vdso]' in names,
        '[vsyscall] last': names[-1] == b'[vsyscall]',
        'every line in kernel layout': all(kernel_line(f) == l for f, l in zip(fs, proc)),
    }
    bad = [k for k, v in want.items() if not v]
    if bad:
        print('missing: ' + ', '.join(bad))
        sys.exit(1)

def cmd_find(args):
    """find PROCFILE NAME [K]: start and end of the K-th line whose name is NAME."""
    k = int(args[2]) if len(args) > 2 else 0
    hits = [fields(l) for l in lines(args[0]) if fields(l)['name'] == args[1].encode()]
    print('%x %x' % (hits[k]['start'], hits[k]['end']))

def cmd_count(args):
    print(len(lines(args[0])))

# A maps line in the kernel's layout, as `maps --all` prints them: after the
# inode, nothing, one space, or spaces and a name (maps_errors.sh).
STRICT_LINE = re.compile(rb'^[0-9a-f]{8,16}-[0-9a-f]{8,16} [-r][-w][-x][ps] [0-9a-f]{8,16} '
                         rb'[0-9a-f]{2,}:[0-9a-f]{2,} \d+ ( {1,}\S.*)?\n$|'
                         rb'^[0-9a-f]{8,16}-[0-9a-f]{8,16} [-r][-w][-x][ps] [0-9a-f]{8,16} '
                         rb'[0-9a-f]{2,}:[0-9a-f]{2,} \d+ \n$')

def all_ok(path, order):
    """Why `maps --all` output of a live machine is not well-formed blocks,
    none empty, more than 5, each pid once (and, with order, in pid order);
    None when it is."""
    try:
        check_all(path, order)
    except SystemExit as e:
        return str(e) or 'failed'
    return None

def cmd_all_ok_each(args):
    """all-ok-each OUT...: many runs in one start (maps_errors.sh); a line
    per file: the file, then 'ok' or why for all-ok, the same for all-ok
    order, tab-separated."""
    for a in args:
        print('%s\t%s\t%s' % (a, all_ok(a, False) or 'ok', all_ok(a, True) or 'ok'))

def check_all(path, order):
    bs = blocks(path)
    for pid, comm, body in bs:
        if not body:
            raise SystemExit('empty block for pid %d' % pid)
        for l in body:
            if not STRICT_LINE.match(l):
                raise SystemExit('pid %d: not a maps line: %r' % (pid, l))
    pids = [b[0] for b in bs]
    if len(pids) <= 5:
        raise SystemExit('only %d blocks' % len(pids))
    if len(set(pids)) != len(pids):
        raise SystemExit('a pid appears twice')
    if order:
        late = [(pids[i - 1], p) for i, p in enumerate(pids) if i and p < pids[i - 1]]
        if late:
            raise SystemExit('not in pid order: ' + ', '.join('%d after %d' % (p, q) for q, p in late[:5]))

def cmd_trace_json(args):
    """trace-json OUT PROCFILE PID: `taskvma trace --json --count 1` of a
    system call: one object, complete, every mapping as /proc prints it."""
    objs = open(args[0], 'rb').read().splitlines()
    if len(objs) != 1:
        raise SystemExit('%d lines, want 1' % len(objs))
    o = json.loads(objs[0].decode('utf-8'))
    proc = lines(args[1])
    if not (o['pid'] == int(args[2]) and o['event'] == 'syscall' and o['syscall'] == 'getuid'):
        raise SystemExit('header %r' % {k: v for k, v in o.items() if k != 'mappings'})
    if not (o['complete'] is True and o['vmas_lost'] == 0 and o['error'] is None):
        raise SystemExit('not complete: %r' % {k: v for k, v in o.items() if k != 'mappings'})
    m = o['mappings']
    if len(m) != len(proc):
        raise SystemExit('%d mappings, /proc has %d lines' % (len(m), len(proc)))
    for j, l in zip(m, proc):
        f = fields(l)
        got = (j['start'], j['end'], j['perms'], j['offset'], j['inode'],
               j['name'].encode('utf-8', 'surrogateescape'))
        want = (f['start'], f['end'], f['perms'], f['offset'], f['inode'], f['name'])
        if got != want:
            raise SystemExit('record %r, /proc has %r' % (j, l))

def cmd_json_eq(args):
    """json-eq DOC KEY WANT: strict JSON whose top-level KEY is WANT (as text)."""
    got = load_json(args[0]).get(args[1])
    if str(got) != args[2]:
        raise SystemExit('%s is %r, want %s' % (args[1], got, args[2]))

def cmd_checks(args):
    """checks FILE: a case's queued checks (tests/lib.sh: ocheck) from one
    python start, instead of one start each (about 0.5 s apiece at load 10).
    Each line: NAME, COMMAND, ARGS..., tab-separated; prints 'PASS NAME' or
    'FAIL NAME: why' (what the command printed, its exit message), as
    lib.sh's check does for a command."""
    with open(args[0], 'rb') as f:
        queued = f.read().decode('utf-8', 'surrogateescape').split('\n')
    for line in queued:
        if not line:
            continue
        name, cmd, *a = line.split('\t')
        buf = io.TextIOWrapper(io.BytesIO(), encoding='utf-8', errors='replace')
        why = None
        try:
            with contextlib.redirect_stdout(buf):
                COMMANDS[cmd](a)
        except SystemExit as e:
            if e.code not in (None, 0):
                why = '' if isinstance(e.code, int) else str(e.code)
        except Exception as e:  # a broken oracle is a failed check, not a stop
            why = '%s: %s' % (type(e).__name__, e)
        if why is None:
            print('PASS %s' % name)
        else:
            buf.flush()
            said = buf.buffer.getvalue().decode('utf-8', 'replace').strip().split('\n')
            print('FAIL %s: %s' % (name, ' '.join(said[-3:] + ([why] if why else [])).strip()))
        sys.stdout.flush()

# ---- scan (tests/cases/scan.sh) ------------------------------------------
# The rules of `taskvma scan` (docs/scan-watch.md), computed again from
# /proc/PID/maps text, and checks of taskvma's output against them.

SCAN_RULES = ['wx', 'anon-exec', 'deleted-exec', 'memfd-exec', 'stack-exec', 'heap-exec']
SCAN_LINE = re.compile(rb'^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) ([0-9a-f]+) '
                  rb'([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$')
SCAN_DEL = b' (deleted)'

def scan_maps(path):
    out = []
    with open(path, 'rb') as f:
        for l in f.read().splitlines():
            m = SCAN_LINE.match(l)
            if not m:
                raise SystemExit('not a maps line: %r' % l)
            out.append(dict(line=l, start=int(m.group(1), 16), end=int(m.group(2), 16),
                            perms=m.group(3).decode(), name=m.group(8)))
    return out

def scan_rules_of(v):
    """Only executable mappings; [vsyscall] (the gate area) is not a VMA."""
    p, n = v['perms'], v['name']
    if p[2] != 'x' or n == b'[vsyscall]':
        return []
    r = set()
    if p[1] == 'w':
        r.add('wx')
    if (n == b'' or n.startswith(b'[anon:') or n.startswith(b'[anon_shmem:')
            or n in (b'/dev/zero (deleted)', b'/anon_hugepage (deleted)')
            or (n.startswith(b'/SYSV') and n.endswith(SCAN_DEL))):
        r.add('anon-exec')
    elif n.startswith(b'/memfd:') and n.endswith(SCAN_DEL):
        r.add('memfd-exec')
    elif n.endswith(SCAN_DEL):
        r.add('deleted-exec')
    elif n == b'[stack]':
        r.add('stack-exec')
    elif n == b'[heap]':
        r.add('heap-exec')
    return [x for x in SCAN_RULES if x in r]

def scan_expected(procmaps, only):
    """[(rules, vma)] the scan must report, in address order."""
    out = []
    for v in scan_maps(procmaps):
        r = [x for x in scan_rules_of(v) if not only or x in only]
        if r:
            out.append((r, v))
    return out

def cmd_scan_expect(a):
    """scan-expect PROCMAPS PID COMM [SCAN_RULES]: the text output for this process."""
    only = a[3].split(',') if len(a) > 3 else None
    o = sys.stdout.buffer
    for r, v in scan_expected(a[0], only):
        o.write(b'%s (%s) %s %s\n' % (a[1].encode(), a[2].encode(), ','.join(r).encode(), v['line']))

def scan_made(path):
    """The fixture's own list: [(addr, rules, label)]."""
    out = []
    with open(path) as f:
        for l in f:
            _, addr, rules, label = l.split()
            out.append((int(addr, 16), [] if rules == '-' else rules.split(','), label))
    return out

SCAN_FIND = re.compile(rb'^(\d+) \((.*)\) ([a-z,-]+) (.*)$')

def cmd_scan_made(a):
    """scan-made MADE PROCMAPS OUTPUT PID: each finding of PID in OUTPUT holds
    exactly one mapping the fixture made, and has the rules the fixture made
    it for; each rule mapping is found; no control is."""
    fx = scan_made(a[0])
    vmas = scan_maps(a[1])
    errs, found = [], set()
    with open(a[2], 'rb') as f:
        for l in f.read().splitlines():
            m = SCAN_FIND.match(l)
            if not m:
                errs.append('not a finding line: %r' % l)
                continue
            if m.group(1) != a[3].encode():
                continue
            v = SCAN_LINE.match(m.group(4))
            if not v:
                errs.append('finding without a maps line: %r' % l)
                continue
            s, e = int(v.group(1), 16), int(v.group(2), 16)
            mine = [x for x in fx if s <= x[0] < e]
            if len(mine) != 1:
                errs.append('finding %r holds %d fixture mappings' % (l, len(mine)))
                continue
            rules = m.group(3).decode().split(',')
            if rules != mine[0][1]:
                errs.append('%s: found as %s, made as %s' % (mine[0][2], rules, mine[0][1] or '-'))
            found.add(mine[0][2])
    for addr, rules, label in fx:
        if rules and label not in found:
            errs.append('%s (%s at %#x) not found' % (label, ','.join(rules), addr))
    # the fixture's list must itself agree with the kernel's view
    for addr, rules, label in fx:
        v = [x for x in vmas if x['start'] <= addr < x['end']]
        if len(v) != 1 or scan_rules_of(v[0]) != rules:
            errs.append('fixture %s at %#x: /proc says %r' % (label, addr, v and v[0]['line']))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def scan_kernel_line(m):
    h = b'%08x-%08x %s %08x %02x:%02x %d ' % (m['start'], m['end'], m['perms'].encode(),
                                              m['offset'], m['dev_major'], m['dev_minor'],
                                              m['inode'])
    name = m['name'].encode('utf-8', 'surrogateescape')
    if name:
        h = h.ljust(72) + b' ' + name
    return h

def cmd_scan_json(a):
    """scan-json DOC PROCMAPS PID COMM BACKEND PROCS [SCAN_RULES]: strict JSON; the
    findings of PID are the oracle's; processes/count are consistent.
    PROCS: the number of processes the summary line gave."""
    doc = load_json(a[0])
    pid, comm, backend, procs = int(a[2]), a[3], a[4], int(a[5])
    only = a[6].split(',') if len(a) > 6 else None
    errs = []
    if not {'schema', 'backend', 'findings', 'processes', 'count', 'errors'} <= set(doc) <= \
            {'schema', 'backend', 'findings', 'processes', 'count', 'errors', 'skipped'} or \
            doc.get('schema') != 'taskvma.scan/1':
        errs.append('keys %s' % sorted(doc))
    if not isinstance(doc.get('errors'), list) or any(
            set(e) != {'pid', 'error'} for e in doc.get('errors', [])):
        errs.append('errors %r' % doc.get('errors'))
    if doc.get('backend') not in ('bpf', 'procmap', 'procfs') or \
            (backend != 'auto' and doc.get('backend') != backend):
        errs.append('backend %r' % doc.get('backend'))
    fs = doc.get('findings', [])
    if doc.get('count') != len(fs):
        errs.append('count %r, %d findings' % (doc.get('count'), len(fs)))
    ps = doc.get('processes')
    if not isinstance(ps, list) or len(ps) != procs or any(
            set(p) != {'pid', 'comm', 'complete', 'count', 'findings'} for p in ps) or \
            sum(p['findings'] for p in ps) != len(fs):
        errs.append('processes %r, summary says %d' % (ps, procs))
    got = []
    for f in fs:
        if set(f) != {'pid', 'comm', 'rules', 'mapping'} or type(f['pid']) is not int:
            errs.append('finding %r' % f)
            continue
        if not f['rules'] or [r for r in SCAN_RULES if r in f['rules']] != f['rules']:
            errs.append('rules %r: not known rules in order' % f['rules'])
        if only and not set(f['rules']) <= set(only):
            errs.append('rules %r outside --rules=%s' % (f['rules'], a[6]))
        if f['pid'] == pid:
            if f['comm'] != comm:
                errs.append('comm %r' % f['comm'])
            got.append((f['rules'], scan_kernel_line(f['mapping'])))
    want = [(r, v['line']) for r, v in scan_expected(a[1], only)]
    if got != want:
        errs.append('findings of pid %d:\n  got  %r\n  want %r' % (pid, got, want))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def cmd_scan_procs(a):
    """scan-procs OUT: the processes that have an address space we can read
    (pid and start time), one per line."""
    import os
    with open(a[0], 'w') as o:
        for p in os.listdir('/proc'):
            if not p.isdigit():
                continue
            try:
                with open('/proc/%s/maps' % p, 'rb') as f:
                    if not f.read(1):
                        continue
                with open('/proc/%s/stat' % p, 'rb') as f:
                    st = f.read().rsplit(b')', 1)[1].split()[19]
            except OSError:
                continue
            o.write('%s %s\n' % (p, st.decode()))

def cmd_scan_between(a):
    """scan-between BEFORE AFTER N: the processes alive in both lists are a lower
    bound of N; all processes seen, plus those started and gone during the
    scan (SLACK), an upper bound."""
    b = set(open(a[0]).read().split('\n')) - {''}
    c = set(open(a[1]).read().split('\n')) - {''}
    n, slack = int(a[2]), 64
    if not len(b & c) <= n <= len(b | c) + slack:
        print('%d processes scanned; %d were alive before and after, %d seen in all'
              % (n, len(b & c), len(b | c)))
        sys.exit(1)

def cmd_scan_no_findings(a):
    """scan-no-findings DOC: strict JSON with no finding, count 0."""
    d = load_json(a[0])
    if d['findings'] != [] or d['count'] != 0:
        raise SystemExit(repr(d))

def cmd_scan_one_error(a):
    """scan-one-error DOC PID TEXT: errors[] is one entry, for PID, saying TEXT."""
    e = load_json(a[0])['errors']
    if not (len(e) == 1 and e[0]['pid'] == int(a[1]) and a[2] in e[0]['error']):
        raise SystemExit(repr(e))

COMMANDS = {k[4:].replace('_', '-'): v for k, v in globals().items() if k.startswith('cmd_')}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit('usage: oracle.py COMMAND ARGS... (commands: %s)' % ', '.join(sorted(COMMANDS)))
    COMMANDS[sys.argv[1]](sys.argv[2:])
