#!/usr/bin/env python3
"""Oracles for the case scripts (tests/cases/*.sh): what the kernel's own
/proc/PID/maps text says, computed without taskvma, and checks of taskvma's
output against it.  Bytes throughout: /proc prints names as they are.

Usage: python3 tests/oracle.py COMMAND ARGS...  (each cmd_* below; a check
prints why and exits 1 when it fails).
"""
import calendar, contextlib, errno, fnmatch, glob, io, json, mmap, os, random, re, subprocess, sys, time

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

def mapping_line(m):
    """A JSON mapping record (its name a str) as /proc prints the line:
    bytes, without the newline."""
    return kernel_line(dict(m, name=m['name'].encode('utf-8', 'surrogateescape')))[:-1]

def mapping_text(m):
    """mapping_line() as text (the name's bytes kept as surrogates)."""
    return mapping_line(m).decode('utf-8', 'surrogateescape')

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
    # "consistent": an atomic snapshot; the BPF backend's always are, the
    # fallbacks' never without --consistent (docs/json.md)
    want = [{'pid': pid, 'comm': comm, 'complete': True,
             'consistent': doc.get('backend') == 'bpf', 'count': len(proc)}]
    if ps != want:
        errs.append('processes %r, want %r' % (ps, want))
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

def json_text(doc):
    """The mappings of a maps --json document as /proc's text."""
    out = b''
    for m in doc.get('mappings', []):
        name = bytes.fromhex(m['name_hex']) if 'name_hex' in m else m.get('name', '').encode()
        out += kernel_line(dict(m, name=name))
    return out

def cmd_race(args):
    """race STATE0 STATE1 DIR N: DIR/I.json and DIR/I.rc (I = 1..N) are
    maps --json reads of a racer (tests/fixtures/racer.c) and their exit
    codes.  Prints "real_atomic torn_atomic real_plain torn_plain exit6
    other" (a read is atomic when its process says "consistent": true, real
    when its records are one of the racer's two states byte for byte), then
    an example of each kind of failure."""
    states = [open(a, 'rb').read() for a in args[:2]]
    d, n = args[2], int(args[3])
    c = dict(real_atomic=0, torn_atomic=0, real_plain=0, torn_plain=0, exit6=0, other=0)
    why = {}
    for i in range(1, n + 1):
        rc = open('%s/%d.rc' % (d, i)).read().strip()
        if rc == '6':
            c['exit6'] += 1
            continue
        try:
            doc = load_json('%s/%d.json' % (d, i))
            ps = doc['processes']
            atomic = ps[0]['consistent']
            if rc != '0' or len(ps) != 1 or type(atomic) is not bool:
                raise ValueError('exit %s, processes %r' % (rc, ps))
        except Exception as e:
            c['other'] += 1
            why.setdefault('other', 'read %d: %s' % (i, e))
            continue
        real = json_text(doc) in states
        k = ('real_' if real else 'torn_') + ('atomic' if atomic else 'plain')
        c[k] += 1
        if not real:
            got = json_text(doc).splitlines()
            diff = [l for l in got if l not in states[0].splitlines()][:2] + \
                   [b'-' + l for l in states[0].splitlines() if l not in got][:2]
            why.setdefault(k, 'read %d: %r' % (i, diff))
    print(' '.join(str(c[k]) for k in ('real_atomic', 'torn_atomic', 'real_plain', 'torn_plain',
                                       'exit6', 'other')),
          '|', '; '.join('%s %s' % kv for kv in sorted(why.items())))

def cmd_race_seizer(argv):
    """race-seizer PID: a Python fixture for race.sh: attach to PID with
    PTRACE_SEIZE (it keeps running), say "seized", hold it 120 s (or until
    killed: the kernel detaches then)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(0x4206, int(argv[0]), None, None):  # PTRACE_SEIZE
        raise SystemExit('seize: errno %d' % ctypes.get_errno())
    print('seized', flush=True)
    time.sleep(120)

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
    system call: one object, complete, every mapping as /proc prints it,
    then the summary record: 1 capture, nothing skipped."""
    objs = open(args[0], 'rb').read().splitlines()
    if len(objs) != 2:
        raise SystemExit('%d lines, want 2 (a capture, the summary)' % len(objs))
    o = json.loads(objs[0].decode('utf-8'))
    sm = json.loads(objs[1].decode('utf-8'))
    want = {'schema': 'taskvma.trace/1', 'event': 'summary', 'captures': 1, 'incomplete': 0,
            'without_map': 0, 'processes': 1, 'skipped': {'lost': 0, 'not_captured': 0},
            'stopped_by': 'end'}
    if sm != want:
        raise SystemExit('summary %r, want %r' % (sm, want))
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
            got.append((f['rules'], mapping_line(f['mapping'])))
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

# ---- features (tests/cases/features.sh) -----------------------------------
# `taskvma features` checked against what is known here and against
# programs loaded through libbpf.  These print PASS/FAIL lines themselves.

def features_out(ok, name, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))

def features_load(path):
    with open(path) as f:
        return json.load(f)

# The documented schema (docs/features.md): key -> allowed types.
FEATURES_TOP = {"schema": (str,), "kernel": (str,), "uid": (int,), "quick": (bool,),
       "elapsed_us": (int,), "summary": (dict,), "probes": (list,)}
FEATURES_SUMMARY = {"kfuncs_present": (bool,), "semantics": (str,), "bpf_walker": (bool,),
           "procmap_query": (bool,), "procmap_build_id": (bool,),
           "proc_maps_readable": (bool,), "cap_bpf": (bool,), "cap_perfmon": (bool,),
           "cap_sys_admin": (bool,), "cap_net_admin": (bool,),
           "lockdown": (str, type(None)), "unprivileged_bpf_disabled": (int, type(None)),
           "auto_backend": (str,), "auto_reason": (str,),
           "requested_backend": (str, type(None)), "requested_usable": (bool, type(None))}
FEATURES_PROBE = {"name": (str,), "category": (str,), "status": (str,), "errno": (str, type(None)),
         "value": (str, type(None)), "prog_type": (str, type(None)),
         "section": (str, type(None)), "task_source": (str, type(None)),
         "documented": (bool, type(None)), "task_from_pid": (bool, type(None)),
         "detail": (str,)}
FEATURES_CATS = {"prog_type", "kfunc", "dependency", "system", "backend"}
FEATURES_STATUS = {"supported", "unsupported", "not_run"}
FEATURES_SEMS = {"none", "mmap_lock_6_7", "per_vma_snapshot", "unknown"}
FEATURES_BACKENDS = {"bpf", "procmap", "procfs"}
FEATURES_DOC_TYPES = {"CGROUP_SKB", "CGROUP_SOCK_ADDR", "LSM", "LWT_IN", "LWT_OUT", "LWT_SEG6LOCAL",
             "LWT_XMIT", "NETFILTER", "SCHED_ACT", "SCHED_CLS", "SK_SKB", "SOCKET_FILTER",
             "STRUCT_OPS", "SYSCALL", "TRACING", "XDP"}
FEATURES_EXTRA_TYPES = {"RAW_TRACEPOINT", "TRACEPOINT", "PERF_EVENT"}

def features_keys_ok(obj, spec):
    bad = [k for k in spec if k not in obj or not isinstance(obj[k], spec[k])
           or (isinstance(obj[k], bool) and bool not in spec[k])]
    extra = [k for k in obj if k not in spec]
    return bad, extra

def features_schema(tag, d):
    bad, extra = features_keys_ok(d, FEATURES_TOP)
    features_out(not bad and not extra, tag + ": top-level keys and types", "bad %s extra %s" % (bad, extra))
    if bad:
        return
    features_out(d["schema"] == "taskvma.features/1", tag + ": schema taskvma.features/1", d["schema"])
    bad, extra = features_keys_ok(d["summary"], FEATURES_SUMMARY)
    features_out(not bad and not extra, tag + ": summary keys and types", "bad %s extra %s" % (bad, extra))
    errs = []
    for p in d["probes"]:
        b, e = features_keys_ok(p, FEATURES_PROBE)
        if b or e:
            errs.append("%s: bad %s extra %s" % (p.get("name"), b, e))
        elif p["category"] not in FEATURES_CATS or p["status"] not in FEATURES_STATUS or "\n" in p["detail"]:
            errs.append("%s: category/status/detail" % p["name"])
        elif p["errno"] is not None and not p["errno"].startswith("E"):
            errs.append("%s: errno %s" % (p["name"], p["errno"]))
        elif (p["category"] == "prog_type") != (p["prog_type"] is not None):
            errs.append("%s: prog_type field" % p["name"])
        elif p["category"] == "prog_type" and (p["status"] == "supported") != (p["task_source"] is not None):
            errs.append("%s: task_source vs status" % p["name"])
    features_out(not errs, tag + ": every probe entry as documented", "; ".join(errs[:3]))
    names = [p["name"] for p in d["probes"]]
    features_out(len(names) == len(set(names)), tag + ": probe names unique")
    s = d["summary"]
    features_out(s["semantics"] in FEATURES_SEMS and s["auto_backend"] in FEATURES_BACKENDS and s["auto_reason"],
        tag + ": summary enums valid", "%s %s" % (s["semantics"], s["auto_backend"]))
    ab = [p for p in d["probes"] if p["name"] == "auto_backend"]
    features_out(len(ab) == 1 and ab[0]["value"] == s["auto_backend"], tag + ": auto_backend probe = summary")

def features_probes(d):
    return {p["name"]: p for p in d["probes"]}

def features_root_facts(d):
    P, s = features_probes(d), d["summary"]
    for n in ("SYSCALL", "TRACING iter/task", "TRACING tp_btf/sched_process_exec", "RAW_TRACEPOINT"):
        features_out(n in P and P[n]["status"] == "supported", "features: %s accepted here" % n,
            P.get(n, {}).get("detail"))
    features_out(s["semantics"] == "per_vma_snapshot", "features: per-VMA snapshot semantics detected",
        s["semantics"])
    features_out(s["kfuncs_present"] and all(P[k]["status"] == "supported" for k in
        ("bpf_iter_task_vma_new", "bpf_iter_task_vma_next", "bpf_iter_task_vma_destroy")),
        "features: the three kfuncs in BTF")
    features_out(s["procmap_query"] and P["procmap_query"]["status"] == "supported",
        "features: PROCMAP_QUERY present")
    features_out(s["procmap_build_id"], "features: PROCMAP_QUERY returns build IDs",
        P["procmap_build_id"]["detail"])
    features_out(s["bpf_walker"] and s["auto_backend"] == "bpf", "features: auto picks bpf as root",
        s["auto_reason"])
    for n in ("bpf_task_from_pid", "tp_btf/sched_process_exec", "tp_btf/sched_process_exit",
              "tp_btf/signal_deliver", "tp_btf/sched_process_fork", "tp_btf/mmap_lock_released",
              "tp_btf/vm_unmapped_area", "raw_tp/sys_enter", "ringbuf", "proc_maps_self"):
        features_out(P.get(n, {}).get("status") == "supported", "features: %s supported" % n,
            P.get(n, {}).get("detail"))
    features_out(s["cap_bpf"] and s["cap_perfmon"] and s["cap_sys_admin"], "features: root has the caps")
    features_out(P["lockdown"]["status"] != "unsupported" and (s["lockdown"] in
        (None, "none", "integrity", "confidentiality")), "features: lockdown probed",
        P["lockdown"]["detail"])
    pt = [p for p in d["probes"] if p["category"] == "prog_type"]
    docd = {p["prog_type"] for p in pt if p["documented"]}
    undoc = {p["prog_type"] for p in pt if p["documented"] is False}
    features_out(docd == FEATURES_DOC_TYPES, "features: the 16 documented program types probed",
        sorted(FEATURES_DOC_TYPES ^ docd))
    features_out(undoc == FEATURES_EXTRA_TYPES, "features: RAW_TRACEPOINT, TRACEPOINT, PERF_EVENT probed as undocumented",
        sorted(undoc))
    # fentry / LSM: the real errno, whatever it is, with its reason
    for n in ("LSM", "TRACING fentry/bpf_fentry_test1"):
        p = P[n]
        features_out(p["status"] == "supported" or (p["errno"] and p["detail"]),
            "features: %s answer has errno and reason when refused" % n, p)

# probe name -> (program taking the first task source, program using bpf_task_from_pid)
FEATURES_LIBBPF = {
    "CGROUP_SKB": "cgroup_skb", "CGROUP_SOCK_ADDR": "cgroup_sock_addr", "LSM": "lsm",
    "LWT_IN": "lwt_in", "LWT_OUT": "lwt_out", "LWT_SEG6LOCAL": "lwt_seg6local",
    "LWT_XMIT": "lwt_xmit", "NETFILTER": "netfilter", "SCHED_ACT": "sched_act",
    "SCHED_CLS": "sched_cls", "SK_SKB": "sk_skb", "SOCKET_FILTER": "socket_filter",
    "STRUCT_OPS": "struct_ops", "SYSCALL": "syscall",
    "TRACING tp_btf/sched_process_exec": "tracing_tp_btf",
    "TRACING fentry/bpf_fentry_test1": "tracing_fentry", "XDP": "xdp",
    "RAW_TRACEPOINT": "raw_tracepoint", "TRACEPOINT": "tracepoint", "PERF_EVENT": "perf_event",
}

def features_compare(d, lines_path):
    L = {}
    with open(lines_path) as f:
        for line in f:
            r = json.loads(line)
            L[r["prog"]] = r
    P = features_probes(d)
    pt = {n for n, p in P.items() if p["category"] == "prog_type"}
    covered = set(FEATURES_LIBBPF) | {"TRACING iter/task"}
    features_out(pt == covered, "features: every program-type probe has an independent libbpf check",
        sorted(pt ^ covered))
    for name in sorted(pt & covered):
        p = P[name]
        if name == "TRACING iter/task":
            first, pid, src = L.get("p_tracing_iter_ctx"), L.get("p_tracing_iter_pid"), "ctx->task"
        else:
            base = FEATURES_LIBBPF[name]
            first, pid, src = L.get("p_%s_cur" % base), L.get("p_%s_pid" % base), "bpf_get_current_task_btf"
        if first is None or pid is None:
            features_out(False, "features: %s vs libbpf" % name, "libbpf program missing")
            continue
        want = "supported" if (first["ok"] or pid["ok"]) else "unsupported"
        why = "features %s (%s); libbpf: first %s %s, from_pid %s %s" % (
            p["status"], p["detail"], first["ok"], first["reason"], pid["ok"], pid["reason"])
        ok = p["status"] == want
        if ok and first["ok"]:
            ok = p["task_source"] == src
        elif ok and pid["ok"]:
            ok = p["task_source"] == "bpf_task_from_pid"
        if ok and p["task_from_pid"] is not None:
            ok = p["task_from_pid"] == pid["ok"]
        if ok and want == "unsupported":
            ok = p["errno"] == errno.errorcode.get(first["errno"], str(first["errno"]))
        features_out(ok, "features: %s agrees with a libbpf-loaded program" % name, why)

def features_unpriv(d):
    P, s = features_probes(d), d["summary"]
    bpfish = [p for p in d["probes"] if p["category"] == "prog_type"] + \
        [P[n] for n in ("bpf_walker", "bpf_task_from_pid", "tp_btf/sched_process_exec",
                        "raw_tp/sys_enter", "ringbuf")]
    bad = [p["name"] for p in bpfish if p["status"] != "not_run" or "lacks" not in p["detail"]]
    features_out(not bad, "features unprivileged: every BPF probe not_run with the reason", bad[:5])
    features_out(not (s["cap_bpf"] or s["cap_perfmon"] or s["cap_sys_admin"]),
        "features unprivileged: no capabilities seen")
    features_out(s["auto_backend"] == "procfs" and "BPF walker unusable" in s["auto_reason"]
        and "PROCMAP_QUERY" in s["auto_reason"],
        "features unprivileged: auto picks procfs for whole maps, procmap for lookups, and says why",
        s["auto_reason"])
    features_out(s["kfuncs_present"] and s["semantics"] == "per_vma_snapshot",
        "features unprivileged: BTF probes still run (vmlinux BTF is world-readable)")
    features_out(P["lockdown"]["status"] in ("not_run", "supported") and P["lockdown"]["detail"],
        "features unprivileged: lockdown reported", P["lockdown"])

def features_quick(d, full):
    P = features_probes(d)
    features_out(d["quick"] is True and not any(p["category"] == "prog_type" for p in d["probes"]),
        "features --quick: quick, no program-type probes")
    features_out({"bpf_walker", "procmap_query", "bpf_iter_task_vma_new", "iter_semantics", "cap_bpf",
         "auto_backend"} <= set(P), "features --quick: has what auto needs")
    features_out(d["summary"]["auto_backend"] == full["summary"]["auto_backend"],
        "features --quick: same auto backend as the full probe")

def features_text(path, d):
    with open(path) as f:
        lines = f.read().split("\n")
    hdr = [i for i, l in enumerate(lines) if l.startswith("CATEGORY ")]
    if len(hdr) != 1:
        features_out(False, "features text: one header line")
        return
    h = lines[hdr[0]]
    # a probe's line, then its DETAIL's continuation lines (indented)
    rows = [l for l in lines[hdr[0] + 1:] if l and not l.startswith(" ")]
    cols = [h.index(c) for c in ("PROBE", "STATUS", "DETAIL")]
    features_out(len(rows) == len(d["probes"]), "features text: one line per probe",
        "%d lines, %d probes" % (len(rows), len(d["probes"])))
    long = [l for l in lines if len(l) > 80]
    features_out(not long, "features text (not a terminal): every line fits 80 columns", long[:1])
    bad = [r for r in rows if any(len(r) > c and (r[c - 2:c] != "  " or r[c] == " ") for c in cols)
           or r[cols[1]:].split()[0] not in FEATURES_STATUS]
    features_out(not bad, "features text: columns aligned", bad[:2])
    names = [r[cols[0]:cols[1]].rstrip() for r in rows]
    features_out(names == [p["name"] for p in d["probes"]], "features text: same probes as JSON")

def cmd_features_schema(a):
    """schema JSON TAG: the document as docs/features.md says (PASS/FAIL lines)."""
    features_schema(a[1], features_load(a[0]))

def cmd_features_root(a):
    """root JSON: what is known of this machine, run as root."""
    features_root_facts(features_load(a[0]))

def cmd_features_compare(a):
    """compare JSON LIBBPF_JSONL: each program-type probe against a program
    loaded through libbpf (test_features --load)."""
    features_compare(features_load(a[0]), a[1])

def cmd_features_unpriv(a):
    """unpriv JSON: the report of an unprivileged user."""
    features_unpriv(features_load(a[0]))

def cmd_features_quick(a):
    """quick QUICK_JSON FULL_JSON: --quick against the full probe."""
    features_quick(features_load(a[0]), features_load(a[1]))

def cmd_features_text(a):
    """text TXT JSON: the text table against the JSON."""
    features_text(a[0], features_load(a[1]))

def cmd_features_requested(a):
    """requested JSON BACKEND: --backend=BACKEND reported usable."""
    s = features_load(a[0])["summary"]
    features_out(s["requested_backend"] == a[1] and s["requested_usable"] is True,
        "features --backend=%s: requested backend reported usable" % a[1], s)

# ---- watch (tests/cases/watch.sh) -----------------------------------
# Checks of `taskvma watch` output against lines read from /proc.

WATCH_HDR = re.compile(r'^@ (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z pid (\d+) \((.*)\) seq (\d+) (\S+?)( resync)?: (\d+) (changes?|mappings)$')

WATCH_EVENT = re.compile(r'^@ \S+Z pid \d+ \(.*\) seq \d+ (exec|exit|fork: child \d+)$')

def watch_groups(path, snapshot=False):
    """[(time, pid, n, [lines])] of the change groups (snapshot=True: of the
    snapshot groups); checks the layout."""
    out = []
    with open(path, 'rb') as f:
        for l in f.read().decode('utf-8', 'surrogateescape').split('\n')[:-1]:
            m = WATCH_HDR.match(l)
            if WATCH_EVENT.match(l):
                continue
            if m:
                t = calendar.timegm(time.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S')) + int(m.group(2)) / 1e6
                out.append((t, int(m.group(3)), int(m.group(8)), [], m.group(9) == 'mappings'))
            elif l[:2] in ('+ ', '- ', '= ', '~ ', '> ') and out:
                if (l[0] == '=') != out[-1][4]:
                    raise SystemExit('line %r in a group of the other kind' % l)
                out[-1][3].append(l)
            else:
                raise SystemExit('line %r: neither a header nor a record after one' % l)
    return [g[:4] for g in out if g[4] == snapshot]

def cmd_watch_snapshot(a):
    """snapshot OUT MAPS: the only output is one snapshot group = MAPS."""
    with open(a[1], 'rb') as f:
        want = ['= ' + l for l in f.read().decode('utf-8', 'surrogateescape').split('\n')[:-1]]
    if watch_groups(a[0]):
        raise SystemExit('changes printed: %r' % watch_groups(a[0]))
    gs = watch_groups(a[0], True)
    if len(gs) != 1 or gs[0][3] != want or gs[0][2] != len(want):
        raise SystemExit('snapshot %r, /proc had %r' % (gs, want))

def cmd_watch_text(a):
    """text OUT PID LINE T0 T1: two groups, "+ LINE" then "- LINE", headers
    with the pid, the count of their lines, times within [T0, T1]."""
    gs = watch_groups(a[0])
    pid, line, t0, t1 = int(a[1]), a[2], float(a[3]), float(a[4])
    got = [g[3] for g in gs]
    if got != [['+ ' + line], ['- ' + line]]:
        raise SystemExit('changes %r, want [+ %r], [- %r]' % (got, line, line))
    for t, p, n, ls in gs:
        if p != pid or n != len(ls):
            raise SystemExit('header pid %d, %d changes, over %d lines' % (p, n, len(ls)))
        if not t0 - 1 <= t <= t1 + 1:
            raise SystemExit('header time %.3f outside [%.3f, %.3f]' % (t, t0, t1))
    if gs[0][0] > gs[1][0]:
        raise SystemExit('header times go back')
    if len(watch_groups(a[0], True)) != 1:
        raise SystemExit('not one snapshot group')

def cmd_watch_json(a):
    """json OUT PID COMM LINE: JSON Lines: added then removed, both the
    mapping /proc showed."""
    pid, comm, line = int(a[1]), a[2], a[3]
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    with open(a[0], 'rb') as f:
        recs = [json.loads(l.decode('utf-8'), parse_constant=bad_const) for l in f.read().split(b'\n')[:-1]]
    recs = [r for r in recs if r.get('event') != 'snapshot']
    if [(r.get('event'), r.get('cause')) for r in recs] != [('added', 'mmap'), ('removed', 'munmap')]:
        raise SystemExit('changes %r' % [(r.get('event'), r.get('cause')) for r in recs])
    for r in recs:
        m = r.get('mapping', {})
        if r.get('schema') != 'taskvma.watch/1' or r.get('pid') != pid or r.get('comm') != comm:
            raise SystemExit('record %r (pid %d, comm %r)' % (r, pid, comm))
        if mapping_text(m) != line:
            raise SystemExit('mapping formats as %r, /proc had %r' % (mapping_text(m), line))
        if m.get('kind') != 'file':
            raise SystemExit('kind %r' % m.get('kind'))

WATCH_ANON_X = re.compile(r'^[0-9a-f]+-[0-9a-f]+ --xp 00000000 00:00 0 $')

def cmd_watch_busy(a):
    """busy OUT: the only changes are the busy thread's --xp page, each
    appearing when absent and going away when present."""
    present = set()
    n = 0
    for t, p, cnt, ls in watch_groups(a[0]):
        if cnt != len(ls):
            raise SystemExit('header says %d changes, %d lines' % (cnt, len(ls)))
        for l in ls:
            s, body = l[0], l[2:]
            if not WATCH_ANON_X.match(body):
                raise SystemExit('a change that did not happen: %r' % l)
            n += 1
        # within a group, removals and additions are of two different maps
        rem = {l[2:] for l in ls if l[0] == '-'}
        add = {l[2:] for l in ls if l[0] == '+'}
        if rem - present and present:
            raise SystemExit('removed %r, not there' % sorted(rem - present))
        if add & (present - rem):
            raise SystemExit('added %r, already there' % sorted(add & (present - rem)))
        present = (present - rem) | add
    print(n)

# ---- watch_seq (tests/cases/watch_seq.sh) ---------------------------
# Checks of `taskvma watch` output against the fixture's /proc copies.

WATCH_SEQ_HDR = re.compile(r'^@ (\S+) pid (\d+) \((.*)\) seq (\d+) (\S+?)( resync)?(?:: (.*))?$')
WATCH_SEQ_STEPS = ['mmap', 'mprotect', 'mremap', 'munmap', 'brk', 'stack']

def watch_seq_start(l):
    return int(l.split('-', 1)[0], 16)

def watch_seq_groups(path):
    gs = []
    with open(path, 'rb') as f:
        lines = f.read().decode('utf-8', 'surrogateescape').split('\n')[:-1]
    i = 0
    while i < len(lines):
        m = WATCH_SEQ_HDR.match(lines[i])
        if not m:
            raise SystemExit('line %r: not a header where one was due' % lines[i])
        g = {'pid': int(m.group(2)), 'seq': int(m.group(4)), 'cause': m.group(5),
             'what': m.group(7), 'recs': []}
        i += 1
        while i < len(lines) and not lines[i].startswith('@ '):
            l = lines[i]
            if l[:2] in ('= ', '+ ', '- '):
                g['recs'].append((l[0], l[2:] + '\n', None))
            elif l.startswith('~ ') and i + 1 < len(lines) and lines[i + 1].startswith('> '):
                g['recs'].append(('~', l[2:] + '\n', lines[i + 1][2:] + '\n'))
                i += 1
            else:
                raise SystemExit('line %r: not a record' % l)
            i += 1
        gs.append(g)
    return gs

def watch_seq_maps(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8', 'surrogateescape').splitlines(True)

def watch_seq_expected(old, new):
    """The documented diff: by start address; same start, other line = ~."""
    o = {watch_seq_start(l): l for l in old}
    n = {watch_seq_start(l): l for l in new}
    out = []
    for s in sorted(set(o) | set(n)):
        if s in o and s in n:
            if o[s] != n[s]:
                out.append(('~', o[s], n[s]))
        elif s in o:
            out.append(('-', o[s], None))
        else:
            out.append(('+', n[s], None))
    return out

def watch_seq_apply(state, recs):
    for k, a, b in recs:
        s = watch_seq_start(a)
        if k in '=+':
            if s in state:
                raise SystemExit('added %r: already there' % a)
            state[s] = a
        elif k == '-':
            if state.get(s) != a:
                raise SystemExit('removed %r: not there (%r)' % (a, state.get(s)))
            del state[s]
        else:
            if state.get(s) != a:
                raise SystemExit('changed %r: not there (%r)' % (a, state.get(s)))
            del state[s]
            if watch_seq_start(b) in state:
                raise SystemExit('changed into %r: already there' % b)
            state[watch_seq_start(b)] = b

def watch_seq_text(st):
    return ''.join(st[k] for k in sorted(st))

def cmd_watch_seq_done(a):
    """done OUT FINAL: the replay reached FINAL (exit 1 if not yet)."""
    st = {}
    try:
        for g in watch_seq_groups(a[0]):
            watch_seq_apply(st, g['recs'])
    except SystemExit:
        sys.exit(1)
    sys.exit(0 if watch_seq_text(st) == ''.join(watch_seq_maps(a[1])) else 1)

def cmd_watch_seq_text(a):
    """text OUT DIR FINAL PID"""
    out, d, final, pid = a[0], a[1], a[2], int(a[3])
    gs = watch_seq_groups(out)
    st = {}
    seq = 1
    for g in gs:
        if g['pid'] != pid:
            raise SystemExit('group of pid %d' % g['pid'])
        if g['seq'] != seq:
            raise SystemExit('group seq %d, want %d' % (g['seq'], seq))
        seq += max(len(g['recs']), 1)
    if not gs or gs[0]['cause'] != 'snapshot' or any(k != '=' for k, _, _ in gs[0]['recs']):
        raise SystemExit('the stream does not start with a snapshot')
    watch_seq_apply(st, gs[0]['recs'])
    if watch_seq_text(st) != ''.join(watch_seq_maps(d + '/step0.maps')):
        raise SystemExit('snapshot differs from /proc')
    print('snapshot = /proc: %d mappings' % len(st))
    gi = 1
    for k, cause in enumerate(WATCH_SEQ_STEPS, 1):
        g = gs[gi]
        gi += 1
        if g['cause'] != cause:
            raise SystemExit('group %d: cause %s, want %s' % (k, g['cause'], cause))
        want = watch_seq_expected(watch_seq_maps(d + '/step%d.maps' % (k - 1)), watch_seq_maps(d + '/step%d.maps' % k))
        if cause == 'stack':
            # the stack may grow in several faults (gcc's stack clash
            # protection probes each page of the alloca): one group or
            # more, each of cause stack, whose replay gives the step's map
            watch_seq_apply(st, g['recs'])
            while gi < len(gs) and gs[gi]['cause'] == 'stack':
                watch_seq_apply(st, gs[gi]['recs'])
                gi += 1
        else:
            if g['recs'] != want:
                raise SystemExit('step %d (%s): records %r, /proc changed by %r' % (k, cause, g['recs'], want))
            watch_seq_apply(st, g['recs'])
        if watch_seq_text(st) != ''.join(watch_seq_maps(d + '/step%d.maps' % k)):
            raise SystemExit('after step %d (%s) the replay differs from /proc' % (k, cause))
        print('step %d %s: %d records = the /proc difference' % (k, cause, len(want)))
    g = gs[gi]
    if g['cause'] != 'exec' or g['what'] is not None or g['recs']:
        raise SystemExit('after the stack: %r, want the exec record' % g)
    for g in gs[gi + 1:]:
        watch_seq_apply(st, g['recs'])
    if watch_seq_text(st) != ''.join(watch_seq_maps(final)):
        raise SystemExit('final replay differs from /proc/PID/maps')
    print('final replay = /proc/%d/maps' % pid)

def cmd_watch_seq_json(a):
    """json JOUT TOUT PID HOST BOOTID FINAL: up to the stack step, the same
    records as the text stream (from there the map changes faster than the
    two watchers re-read it: the stack a page per fault, then the exec's
    loader; each may fold changes differently); replaying all of them gives
    FINAL."""
    jout, tout, pid, host, boot, final = a[0], a[1], int(a[2]), a[3], a[4], a[5]
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    with open(jout, 'rb') as f:
        recs = [json.loads(l.decode('utf-8'), parse_constant=bad_const) for l in f.read().split(b'\n')[:-1]]
    kinds = {'=': 'snapshot', '+': 'added', '-': 'removed', '~': 'changed'}
    want = []
    for g in watch_seq_groups(tout):
        if g['cause'] == 'stack':
            # from here the two watchers may fold differently too: the
            # stack grows a page per fault (stack clash probes), and each
            # watcher re-reads it at its own moments
            break
        if not g['recs']:
            want.append((g['cause'], g['cause'], None, None))
            if g['cause'] == 'exec':
                break
        for k, x, y in g['recs']:
            want.append((kinds[k], g['cause'], y or x, x if k == '~' else None))
    got = []
    for i, r in enumerate(recs, 1):
        for f, v in (('schema', 'taskvma.watch/1'), ('hostname', host), ('boot_id', boot),
                     ('pid', pid), ('seq', i)):
            if r.get(f) != v:
                raise SystemExit('record %d: %s = %r, want %r' % (i, f, r.get(f), v))
        if not re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$', r.get('ts', '')):
            raise SystemExit('record %d: ts %r' % (i, r.get('ts')))
        got.append((r['event'], r['cause'],
                    (mapping_text(r['mapping']) + '\n') if 'mapping' in r else None,
                    (mapping_text(r['old']) + '\n') if r['event'] == 'changed' else None))
    if got[:len(want)] != want or len(got) < len(want):
        for i, (x, y) in enumerate(zip(got, want)):
            if x != y:
                raise SystemExit('record %d: %r, text has %r' % (i + 1, x, y))
        raise SystemExit('%d JSON records, %d text records' % (len(got), len(want)))
    st = {}
    sym = {'snapshot': '=', 'added': '+', 'removed': '-', 'changed': '~'}
    watch_seq_apply(st, [(sym[e], y if e == 'changed' else x, x if e == 'changed' else None)
               for e, c, x, y in got if e in sym])
    if watch_seq_text(st) != ''.join(watch_seq_maps(final)):
        raise SystemExit('JSON replay differs from the final /proc/PID/maps')
    print('%d JSON records = the text records up to the stack step; replay of all = /proc' % len(want))

def cmd_watch_seq_jdone(a):
    """jdone JOUT FINAL: replaying the JSON records gives FINAL (exit 1 if not yet)."""
    sym = {'snapshot': '=', 'added': '+', 'removed': '-', 'changed': '~'}
    st = {}
    try:
        with open(a[0], 'rb') as f:
            recs = [json.loads(l) for l in f.read().split(b'\n')[:-1]]
        watch_seq_apply(st, [(sym[r['event']], (mapping_text(r['old'] if r['event'] == 'changed' else r['mapping']) + '\n'),
                    (mapping_text(r['mapping']) + '\n') if r['event'] == 'changed' else None)
                   for r in recs if r['event'] in sym])
    except (SystemExit, ValueError, KeyError):
        sys.exit(1)
    sys.exit(0 if watch_seq_text(st) == ''.join(watch_seq_maps(a[1])) else 1)

# ---- lookup (tests/cases/lookup.sh) ---------------------------------
# Addresses to look up and what `taskvma lookup` must answer, from /proc text.

def cmd_lookup_addrs(argv):
    """lookup-addrs PROCFILE: addresses to look up and the /proc line holding each: "ADDR LINENO" per line, LINENO 0 = not mapped."""
    ls = open(argv[0], 'rb').read().splitlines()
    vmas = []
    for l in ls:
        s, e = l.split(b' ', 1)[0].split(b'-')
        name = l[73:] if len(l) > 73 else b''
        vmas.append((int(s, 16), int(e, 16), name))
    def owner(a):
        for i, (s, e, _) in enumerate(vmas):
            if s <= a < e:
                return i + 1
        return 0
    picks = set()
    for i, (s, e, name) in enumerate(vmas):
        picks.update({s, e - 1, (s + e) // 2 & ~7})
    out = []
    for a in sorted(picks):
        out.append((a, owner(a)))
    # unmapped: 0, page 1, a gap between two mappings, just below the first,
    # the hole above user space, the last byte of the address space.
    gaps = [vmas[i][1] for i in range(len(vmas) - 1) if vmas[i][1] < vmas[i + 1][0]]
    for a in [0, 0x1000, vmas[0][0] - 1, gaps[0], gaps[len(gaps) // 2] + 0x10, 0x800000000000,
              0xffffffffffffffff]:
        out.append((a, owner(a)))
    for a, o in out:
        print('%x %d' % (a, o))

def cmd_lookup_batch(argv):
    """lookup-batch PROCFILE ADDRS BATCH WANT: the addresses shuffled into BATCH, the expected records into WANT."""
    ls = open(argv[0], 'rb').read().splitlines()
    picks = [l.split() for l in open(argv[1])]
    random.Random(13).shuffle(picks)
    with open(argv[2], 'w') as b, open(argv[3], 'wb') as w:
        for a, ln in picks:
            a, ln = int(a, 16), int(ln)
            b.write('%x\n' % a)
            if not ln:
                w.write(b'0x%x not mapped\n' % a)
                continue
            l = ls[ln - 1]
            f = l.split()
            s, off, ino = int(f[0].split(b'-')[0], 16), int(f[2], 16), int(f[4])
            # shared anonymous memory (/dev/zero (deleted), SYSV) is not a file here
            shanon = l.endswith(b' /dev/zero (deleted)') or b' /SYSV' in l
            o = b'0x%x' % (a - s + off) if ino and not shanon else b'-'
            w.write(b'0x%x %s %s\n' % (a, o, l))

def cmd_lookup_json(argv):
    """lookup-json JSON LINE HEAPSTART: lookup --json of [heap]'s start, 0x10 and 'bad'."""
    d = json.loads(open(argv[0], 'rb').read().decode('utf-8'))
    line, hs = argv[1], int(argv[2], 16)
    r0, r1, r2 = d['results']
    m = r0['mapping']
    h = '%08x-%08x %s %08x %02x:%02x %d ' % (m['start'], m['end'], m['perms'], m['offset'],
                                            m['dev_major'], m['dev_minor'], m['inode'])
    if m['name']:
        h = h.ljust(72) + ' ' + m['name']
    assert h == line, (h, line)
    assert r0['address'] == hs and r0['mapped'] and r0['status'] == 'anonymous' and r0['file_offset'] is None, r0
    assert r0['build_id'] is None and r0['build_id_status'] == 'not-file', r0
    assert r1 == {'input': '0x10', 'address': 16, 'address_hex': '0x10', 'mapped': False, 'status': 'not-mapped'}, r1
    assert r2['input'] == 'bad' and r2['status'] == 'malformed' and not r2['mapped'], r2
    assert d['errors'] == []

# ---- normalize (tests/cases/normalize.sh) ---------------------------
# What `taskvma normalize` must answer, from /proc and readelf.

def cmd_normalize_records(argv):
    """normalize-records MAPPER SUSPECT GONE NOPID KTHREAD IN WANT: input lines for those processes into IN, the expected records into WANT."""
    m, sp, gone, nopid, kt = (int(x) for x in argv[0:5])
    rnd = random.Random(13)
    bid = {}
    def build_id(pid, s, e):
        p = '/proc/%d/map_files/%x-%x' % (pid, s, e)
        if p not in bid:
            out = subprocess.run(['readelf', '-n', p], capture_output=True).stdout.decode()
            ids = [l.split()[2] for l in out.splitlines() if 'Build ID:' in l]
            bid[p] = ids[0] if ids else 'none'
        return bid[p]
    recs = []
    for pid in (m, sp):
        vmas = []
        for l in open('/proc/%d/maps' % pid, 'rb').read().splitlines():
            f = l.split()
            s, e = (int(x, 16) for x in f[0].split(b'-'))
            name = l[73:] if len(l) > 73 else b''
            vmas.append((s, e, f[1].decode(), int(f[2], 16), int(f[4]), name))
        def answer(a):
            for s, e, perms, off, ino, name in vmas:
                if s <= a < e:
                    tail = b'%x-%x %s' % (s, e, perms.encode()) + (b' ' + name if name else b'')
                    # shared anonymous memory is a file to the kernel, not to a symbolizer
                    if ino and name != b'/dev/zero (deleted)' and not name.startswith(b'/SYSV'):
                        return b'%d 0x%x file %s 0x%x %s' % (pid, a, build_id(pid, s, e).encode(), a - s + off, tail)
                    if name.startswith(b'[') and name not in (b'[heap]', b'[stack]') and not name.startswith(b'[anon:'):
                        st = b'special'
                    else:
                        st = b'jit' if 'x' in perms else b'anonymous'
                    return b'%d 0x%x %s - - %s' % (pid, a, st, tail)
            return b'%d 0x%x not-mapped' % (pid, a)
        addrs = set()
        for s, e, *_ in vmas:
            addrs.update({s, e - 1, (s + e) // 2})
        gaps = [vmas[i][1] for i in range(len(vmas) - 1) if vmas[i][1] < vmas[i + 1][0]]
        addrs.update({0, 0x1000, gaps[0], gaps[-1] + 0x10, 0x800000000000, 0xffffffffffffffff})
        for a in addrs:
            recs.append((b'%d 0x%x' % (pid, a), answer(a)))
    recs += [(b'%d 0x1000' % gone, b'%d 0x1000 process-gone' % gone),
             (b'%d 0x1000' % nopid, b'%d 0x1000 process-gone' % nopid),
             (b'%d 0x1000' % kt, b'%d 0x1000 no-address-space' % kt),
             (b'', b'- - malformed:empty-line'),
             (b'0x7f0000001000', b'- 0x7f0000001000 malformed:missing-pid'),
             (b'abc 0x10', b'abc 0x10 malformed:bad-pid'),
             (b'-5 0x10', b'-5 0x10 malformed:bad-pid'),
             (b'%d 4096' % m, b'%d 4096 malformed:bad-address' % m),
             (b'%d 0x' % m, b'%d 0x malformed:bad-address' % m),
             (b'%d 0x10 extra' % m, b'%d 0x10 malformed:extra-fields' % m)]
    rnd.shuffle(recs)
    with open(argv[5], 'wb') as i, open(argv[6], 'wb') as w:
        for a, b in recs:
            i.write(a + b'\n')
            w.write(b + b'\n')

def cmd_normalize_gone(argv):
    """normalize-gone BEFORE AFTER PID: AFTER is BEFORE but for PID's lines, which say process-gone."""
    a = open(argv[0]).read().splitlines()
    b = open(argv[1]).read().splitlines()
    gone = argv[2]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x.split()[0] == gone:
            assert y == ' '.join(x.split()[:2]) + ' process-gone', (x, y)
        else:
            assert x == y, (x, y)

def cmd_normalize_json(argv):
    """normalize-json JSONL TEXT: each JSON line is the text record's answer."""
    js = [json.loads(l) for l in open(argv[0], 'rb').read().decode().splitlines()]
    ts = open(argv[1], 'rb').read().decode().splitlines()
    assert len(js) == len(ts), (len(js), len(ts))
    for n, (j, t) in enumerate(zip(js, ts), 1):
        f = t.split(' ')
        assert j['line'] == n, (j, n)
        if f[2].startswith('malformed:'):
            assert j['status'] == 'malformed' and j['reason'] == f[2][10:], (j, t)
            continue
        assert j['pid'] == int(f[0]) and j['address'] == int(f[1], 16) and j['status'] == f[2], (j, t)
        if len(f) == 3:
            assert 'memory_start' not in j, j
            continue
        s, e = (int(x, 16) for x in f[5].split('-'))
        assert (j['memory_start'], j['memory_limit'], j['perms']) == (s, e, f[6]), (j, t)
        assert j['filename'] == ' '.join(f[7:]), (j, t)
        if f[2] == 'file':
            assert j['address_file_offset'] == int(f[4], 16), (j, t)
            assert j['file_offset'] == int(f[4], 16) - (j['address'] - s), (j, t)
            if f[3] in ('none', 'unreadable'):
                assert j['build_id_status'] == f[3] and 'attributes' not in j, (j, t)
            else:
                assert j['attributes'] == {'process.executable.build_id.gnu': f[3]}, (j, t)

# ---- build_id (tests/cases/build_id.sh) ------------------------------------
# A fixture rather than an oracle: a process with known file mappings.

def cmd_map_files(argv):
    """map-files [-]FILE...: map each file (whole, read only), unlink those
    named with a leading '-', add anonymous executable memory (private and
    shared, as a JIT has), say "ready", wait an hour."""
    keep = []
    for a in argv:
        rm = a.startswith('-')
        p = a[1:] if rm else a
        with open(p, 'rb') as f:
            keep.append(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
        if rm:
            os.unlink(p)
    # anonymous executable memory, as a JIT has
    keep.append(mmap.mmap(-1, 3 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                           prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC))
    # shared anonymous executable memory: "/dev/zero (deleted)" in /proc, still jit
    keep.append(mmap.mmap(-1, 2 * 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC))
    print('ready', flush=True)
    time.sleep(3600)

# ---- hostile (tests/cases/hostile.sh) -------------------------------
# Names and comms that try to break the output.

def cmd_hostile_comm_json(argv):
    """hostile-comm-json JSON HEX: strict UTF-8 JSON whose every object's comm is the hostile comm (U+FFFD for 0xff) and comm_hex HEX."""
    raw = open(argv[0], 'rb').read()
    d = json.loads(raw.decode('utf-8'))  # strict: fails on a raw 0xff
    objs = d.get('processes', []) if isinstance(d.get('processes'), list) else []
    objs += d.get('mappings', []) + d.get('findings', [])
    assert objs, 'no object carries the comm'
    for o in objs:
        assert o['comm'] == '\n\x1b[31m\ufffd', repr(o['comm'])
        assert o['comm_hex'] == argv[1], o.get('comm_hex')

# ---- output (tests/cases/output_errors.sh) --------------------------
# Output that cannot be written whole.

def cmd_output_spool_full(argv):
    """output-spool-full JSON BIG ME: valid JSON with BIG under errors (ENOSPC), not under processes, ME complete."""
    d = json.load(open(argv[0]))
    big, me = int(argv[1]), int(argv[2])
    assert [e['pid'] for e in d['errors']] == [big], d['errors']
    assert 'No space left on device' in d['errors'][0]['error']
    assert [p['pid'] for p in d['processes']] == [me], d['processes']
    assert all(m['pid'] == me for m in d['mappings'])
    assert d['processes'][0]['count'] == len(d['mappings'])

# ---- library (tests/cases/library.sh) -------------------------------
# The library as built.

def cmd_library_declared(argv):
    """library-declared HEADER...: the names the headers declare with TASKVMA_API, sorted."""
    names = set()
    for p in argv:
        text = re.sub(r'/\*.*?\*/', ' ', open(p).read(), flags=re.S)
        text = re.sub(r"#define TASKVMA_API[^\n]*", " ", text)
        for m in re.finditer(r'TASKVMA_API\b([^;{]*?)\(', text):
            names.add(re.findall(r'[A-Za-z_]\w*', m.group(1))[-1])
    print('\n'.join(sorted(names)))

# ---- fuzz (tests/cases/fuzz.sh) -------------------------------------
# The fuzzer's seed corpus.

def cmd_fuzz_corpus(argv):
    """fuzz-corpus DIR: every distinct line of the live /proc/*/maps and some hand-made edge lines, a file each (5,000 at most)."""
    out = argv[0]
    lines = set()
    for f in glob.glob('/proc/[0-9]*/maps'):
        try:
            with open(f, 'rb') as fh:
                lines.update(fh.read().splitlines(keepends=True))
        except OSError:
            pass
    extra = [
        b'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n',
        b'7fdccd68e000-7fdccd68f000 r--p 7ffffffffff00000 00:12d 9223372036865728771  /tmp/ovl/merged/f\n',
        b'00000000-00001000 ---p 00000000 00:00 0 \n',
        b'7f6bc8cb9000-7f6bc8cba000 r--p 00000000 fe:00 10952991                   /tmp/d/new\\012line.dat\n',
        b'7f6bc8ea2000-7f6bc8ea3000 r--p 00000000 fe:00 10952990                   /tmp/d/trailing space.dat \n',
        b'7f0000000000-7f0000001000 rw-p 00000000 00:00 0                          [anon:some name]\n',
    ]
    lines.update(extra)
    for i, l in enumerate(sorted(lines)[:5000]):
        with open(os.path.join(out, 'seed%05d' % i), 'wb') as fh:
            fh.write(l)
    # Without the newline too.
    for i, l in enumerate(extra):
        with open(os.path.join(out, 'nonl%02d' % i), 'wb') as fh:
            fh.write(l.rstrip(b'\n'))

# ---- schema (tests/cases/json_schema.sh) ----------------------------
# JSON output against schemas/taskvma.schema.json.

def cmd_schema_valid(argv):
    """schema-valid SCHEMA FILE doc|lines PROCFILE: each document (or line) valid against SCHEMA, every *_hex the number beside it; prints how many."""
    import jsonschema  # only here: the other commands run without it
    schema = json.load(open(argv[0]))
    text = open(argv[1]).read()
    docs = [json.loads(text)] if argv[2] == 'doc' else [json.loads(l) for l in text.splitlines() if l]
    assert docs, 'no output'
    starts = {int(l.split('-')[0], 16) for l in open(argv[3])}
    v = jsonschema.Draft202012Validator(schema)
    def walk(o, seen):
        if isinstance(o, dict):
            for k, x in o.items():
                if k.endswith('_hex') and x is not None:
                    base = k[:-4]
                    assert base in o and int(x, 16) == o[base], (k, x, o.get(base))
                    seen[0] += 1
            if 'start_hex' in o and o.get('pid') in (None, MPID):
                pass
            for x in o.values():
                walk(x, seen)
        elif isinstance(o, list):
            for x in o:
                walk(x, seen)
    MPID = None
    for d in docs:
        errs = sorted(v.iter_errors(d), key=lambda e: e.path)
        assert not errs, '%s at %s' % (errs[0].message[:200], list(errs[0].path))
        seen = [0]
        walk(d, seen)
    print(len(docs))

def cmd_schema_vsyscall_hex(argv):
    """schema-vsyscall-hex JSON: the [vsyscall] start as a hex string is exact."""
    ms = [m for m in json.load(open(argv[0]))['mappings'] if m['name'] == '[vsyscall]']
    assert not ms or ms[0]['start_hex'] == '0xffffffffff600000', ms

# ---- skips (tests/cases/json_skips.sh) ------------------------------
# What JSON says it did not print, checked in /proc.

def cmd_skips_check(argv):
    """skips-check JSON root|nobody: "skipped" is consistent, each entry's reason holds in /proc (nobody: denied entries; root: no address space)."""
    d = json.load(open(argv[0]))
    sk = d['skipped']
    reasons = ('denied', 'gone', 'no_address_space', 'torn')
    assert set(sk) == set(reasons) | {'processes'}, sk.keys()
    for r in reasons:
        n = sum(1 for p in sk['processes'] if p['reason'] == r)
        assert n == sk[r], (r, n, sk[r])
    printed = {p['pid'] for p in d['processes']} if isinstance(d['processes'], list) else set()
    for p in sk['processes']:
        assert p['pid'] not in printed, p
        path = '/proc/%d' % p['pid']
        if not os.path.exists(path):
            continue
        if p['reason'] == 'no_address_space':
            st = open(path + '/stat').read()
            fields = st[st.rindex(')') + 2:].split()
            assert int(fields[6]) & 0x200000 or fields[0] in 'ZX', (p, fields[:7])
        if p['reason'] == 'denied' and argv[1] == 'nobody':
            r = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                                'head', '-c1', path + '/maps'], capture_output=True)
            # readable now: fine only if it has no address space any more
            # (exited since: a zombie's maps opens, and reads empty; seen
            # with another run's runner exiting meanwhile)
            assert r.returncode != 0 or not r.stdout or not os.path.exists(path), p
    if argv[1] == 'nobody':
        assert sk['denied'] > 0, 'nobody was denied nothing'
    else:
        assert sk['no_address_space'] > 0, 'no kernel thread seen'

# ---- maps (tests/cases/maps_backends.sh) ----------------------------
# `taskvma maps` documents against /proc.

def cmd_skips_lookup(argv):
    """skips-lookup JSON PID REASON|-: lookup --json of one process: when it
    could not be read (REASON), "skipped" lists it with that reason and the
    counts agree, results are empty, errors name it, and the reason holds in
    /proc; '-': nothing skipped and results given."""
    d = json.load(open(argv[0]))
    pid, why = int(argv[1]), argv[2]
    sk = d['skipped']
    reasons = ('denied', 'gone', 'no_address_space', 'torn')
    assert set(sk) == set(reasons) | {'processes'}, sk.keys()
    if why == '-':
        assert all(sk[r] == 0 for r in reasons) and sk['processes'] == [] and d['results'], d
        return
    assert sk['processes'] == [{'pid': pid, 'reason': why}], sk
    assert all(sk[r] == (r == why) for r in reasons), sk
    assert d['results'] == [] and [e['pid'] for e in d['errors']] == [pid], d
    path = '/proc/%d' % pid
    if why == 'gone':
        assert not os.path.exists(path), path
    elif why == 'no_address_space':
        st = open(path + '/stat').read()
        assert int(st[st.rindex(')') + 2:].split()[6]) & 0x200000, st
    elif why == 'denied':
        r = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                            'head', '-c1', path + '/maps'], capture_output=True)
        assert r.returncode != 0, 'nobody can read %s/maps' % path

def cmd_maps_two_pids(argv):
    """maps-two-pids JSON PID1 PID2: both processes listed with /proc's counts, all their records, no error."""
    d = json.load(open(argv[0], encoding='utf-8'))
    a, b = int(argv[1]), int(argv[2])
    n = {p: len(open('/proc/%d/maps' % p, 'rb').read().splitlines()) for p in (a, b)}
    got = {p['pid']: p['count'] for p in d['processes']}
    assert got == n, (got, n)
    assert sum(1 for m in d['mappings'] if m['pid'] == a) == n[a]
    assert sum(1 for m in d['mappings'] if m['pid'] == b) == n[b]
    assert d['errors'] == []

def cmd_maps_all_json(argv):
    """maps-all-json JSON PID: strict JSON, the mapper complete with /proc's count, no kernel thread."""
    d = json.loads(open(argv[0], 'rb').read().decode('utf-8'))
    m = int(argv[1])
    n = len(open('/proc/%d/maps' % m, 'rb').read().splitlines())
    p = [x for x in d['processes'] if x['pid'] == m]
    assert p == [{'pid': m, 'comm': 'mapper', 'complete': True,
                  'consistent': d['backend'] == 'bpf', 'count': n}], p
    assert sum(1 for x in d['mappings'] if x['pid'] == m) == n
    assert all(x['pid'] != 2 for x in d['processes'])

# ---- spool (tests/cases/maps_backends.sh) ---------------------------
# The CLI spool.

def cmd_spool_reorders(argv):
    """spool-reorders MAPS CAP: would "in memory while it fits, else to the file" put a later line of MAPS first (exit 0), or not (exit 1)?"""
    used, cap, spilled = 0, int(argv[1]), False
    for line in open(argv[0], "rb"):
        if used + len(line) <= cap:
            if spilled:
                sys.exit(0)
            used += len(line)
        else:
            spilled = True
    sys.exit(1)

# ---- small ones (several cases) ---------------------------------------------

def cmd_zombie(argv):
    """zombie SECONDS: a fixture: fork a child that exits at once, print its
    pid, and do not reap it for SECONDS (maps_errors.sh, scan.sh)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    print(pid, flush=True)
    time.sleep(int(argv[0]))

def cmd_json_count(argv):
    """json-count JSON [PROCFILE]: print how many mappings the strict UTF-8
    JSON document has; with PROCFILE, fail unless that is its line count."""
    n = len(load_json(argv[0])['mappings'])
    if len(argv) > 1:
        want = len(lines(argv[1]))
        if n != want:
            raise SystemExit('%d mappings, /proc has %d lines' % (n, want))
    print(n)

def cmd_json_pids(argv):
    """json-pids JSON: the pids of the document's mappings, sorted, once each
    (JSON '-': standard input)."""
    d = json.load(sys.stdin) if argv[0] == '-' else load_json(argv[0])
    print(*sorted({m['pid'] for m in d['mappings']}))

def cmd_json_fallback(argv):
    """json-fallback JSON: the document was read by a fallback backend
    (procmap, procfs), its first process complete."""
    d = load_json(argv[0])
    assert d['backend'] in ('procmap', 'procfs'), d['backend']
    assert d['processes'][0]['complete'] is True

def cmd_json_start_hex(argv):
    """json-start-hex JSON: the mappings' start_hex without 0x, space-separated."""
    print(' '.join(m['start_hex'][2:] for m in load_json(argv[0])['mappings']), end=' ')

def cmd_json_process_keys(argv):
    """json-process-keys JSON...: for each document, the type of its
    "processes"; then whether every first entry has pid, comm, complete, count."""
    ps = [load_json(a)['processes'] for a in argv]
    print(*[type(p).__name__ for p in ps], all({'pid', 'comm', 'complete', 'count'} <= set(p[0]) for p in ps))

# ---- pmap's view (pmap_view.sh): sizes, totals, kinds, pictures ----------

def kind(f):
    """The kernel's naming (get_vma_name) seen from the text, as the library
    must classify: a bracketed name without device and inode is special,
    anything else with a name or a device/inode is a file."""
    n, anon = f['name'], not f['inode'] and not f['dev_major'] and not f['dev_minor']
    if not n:
        return 'anon' if anon else 'file'
    if not anon or not (n.startswith(b'[') and n.endswith(b']')):
        return 'file'
    if n == b'[heap]':
        return 'heap'
    if n == b'[stack]':
        return 'stack'
    if n.startswith(b'[anon:'):
        return 'anon_named'
    return 'special'

KINDS = ['file', 'anon', 'heap', 'stack', 'special', 'anon_named']

def totals(fs):
    """pmap's totals (procps pmap.c one_proc): 's' shared, else private,
    writeable with 'w'; sizes end - start, in bytes."""
    t = dict(mappings=len(fs), mapped=0, writeable_private=0, readonly_private=0, shared=0, exec=0,
             kinds={k: dict(count=0, bytes=0) for k in KINDS})
    for f in fs:
        size = f['end'] - f['start']
        t['mapped'] += size
        if f['perms'][3] == 's':
            t['shared'] += size
        elif f['perms'][1] == 'w':
            t['writeable_private'] += size
        else:
            t['readonly_private'] += size
        if f['perms'][2] == 'x':
            t['exec'] += size
        t['kinds'][kind(f)]['count'] += 1
        t['kinds'][kind(f)]['bytes'] += size
    return t

UNITS = {'B': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40, 'P': 1 << 50, 'E': 1 << 60}

def size_ok(text, want, unit):
    """A size as printed: exact bytes, or human: 1024-based, the largest
    unit that leaves at least 1, within the rounding of its last digit
    (half a tenth with a decimal, about half a unit without)."""
    if unit == 'bytes':
        return text == str(want)
    if text == '0':
        return want == 0
    m = re.match(r'^(\d+)(?:\.(\d))?([BKMGTPE])$', text)
    if not m:
        return False
    mult = UNITS[m.group(3)]
    if m.group(3) == 'B':
        return int(m.group(1)) == want and want < 1024
    if want < mult or (m.group(3) != 'E' and want >= 1024 * mult):
        return False
    if m.group(2):
        v10 = int(m.group(1)) * 10 + int(m.group(2))
        return abs(v10 * mult - want * 10) * 2 <= mult
    v = int(m.group(1)) * mult
    return v == want or abs(v - want) * 20 <= mult * 11

TOTAL_RE = re.compile(rb'^total: (\d+) mappings?    mapped: (\S+)    writeable/private: (\S+)    shared: (\S+)\n$')

def check_size_lines(body, fs, unit, prefix=b''):
    """--sizes lines against /proc's: START-END SIZE PERMS NAME, in order."""
    if len(body) != len(fs):
        raise SystemExit('%d size lines, /proc has %d' % (len(body), len(fs)))
    for l, f in zip(body, fs):
        if not l.startswith(prefix):
            raise SystemExit('line without the prefix %r: %r' % (prefix, l))
        l = l[len(prefix):]
        m = re.match(rb'^([0-9a-f]{16})-([0-9a-f]{16}) +(\S+) ([-r][-w][-x][ps])(?: (.*))?\n$', l, re.S)
        if not m:
            raise SystemExit('not a size line: %r' % l)
        if (int(m.group(1), 16), int(m.group(2), 16), m.group(4).decode(), m.group(5) or b'') != \
           (f['start'], f['end'], f['perms'], f['name']):
            raise SystemExit('size line %r for /proc %r' % (l, f))
        if not size_ok(m.group(3).decode(), f['end'] - f['start'], unit):
            raise SystemExit('size %s for %d bytes (%s): %r' % (m.group(3).decode(), f['end'] - f['start'], unit, l))

def check_total_line(l, fs, unit, prefix=b''):
    if not l.startswith(prefix):
        raise SystemExit('totals line without the prefix: %r' % l)
    m = TOTAL_RE.match(l[len(prefix):])
    if not m:
        raise SystemExit('not a totals line: %r' % l)
    t = totals(fs)
    if int(m.group(1)) != t['mappings']:
        raise SystemExit('%s mappings, /proc has %d' % (m.group(1).decode(), t['mappings']))
    for g, k in ((2, 'mapped'), (3, 'writeable_private'), (4, 'shared')):
        if not size_ok(m.group(g).decode(), t[k], unit):
            raise SystemExit('%s %s, /proc says %d bytes' % (k, m.group(g).decode(), t[k]))

def cmd_sizes(args):
    """sizes OUT PROCFILE bytes|human [quiet]: `maps --sizes PID` of one
    process: a size line per /proc line, then the totals line (none with -q)."""
    body, fs = lines(args[0]), [fields(l) for l in lines(args[1])]
    quiet = args[3:] == ['quiet']
    if not quiet:
        if not body:
            raise SystemExit('no output')
        check_total_line(body[-1], fs, args[2])
        body = body[:-1]
    elif any(TOTAL_RE.match(l) for l in body):
        raise SystemExit('a totals line with -q')
    check_size_lines(body, fs, args[2])
    print(len(body))

def cmd_sizes_block(args):
    """sizes-block OUT PID PROCFILE FILTERS...: in `maps --all --sizes`
    output (headers, blocks, totals), the block of PID is the filtered /proc
    lines with their totals, and every block is well-formed."""
    out, pid, fs = lines(args[0]), int(args[1]), [fields(l) for l in lines(args[2])]
    fs = filtered(fs, args[3:])
    seen, i, found = set(), 0, False
    while i < len(out):
        m = HDR.match(out[i])
        if not m:
            raise SystemExit('line %d: expected a header, got %r' % (i + 1, out[i]))
        p = int(m.group(1))
        if p in seen:
            raise SystemExit('pid %d twice' % p)
        seen.add(p)
        j = i + 1
        while j < len(out) and out[j] != b'\n':
            j += 1
        block = out[i + 1:j]
        if not block or not TOTAL_RE.match(block[-1]):
            raise SystemExit('pid %d: block without its totals line' % p)
        if p == pid:
            check_size_lines(block[:-1], fs, 'bytes')
            check_total_line(block[-1], fs, 'bytes')
            found = True
        i = j + 1
    if not found:
        raise SystemExit('no block for pid %d' % pid)
    print(len(seen))

def filtered(fs, opts):
    ok = []
    for f in fs:
        keep = True
        for o in opts:
            if o.startswith('perms='):
                keep &= all(p == '?' or p == c for p, c in zip(o[6:], f['perms']))
            elif o == 'file':
                keep &= kind(f) == 'file'
            elif o == 'anon':
                keep &= kind(f) != 'file'
            else:
                raise SystemExit('bad filter ' + o)
        if keep:
            ok.append(f)
    return ok

def cmd_pmap(args):
    """pmap PMAP_D_OUT PMAP_Q_OUT OURS_BYTES_OUT: procps's own numbers: the
    `pmap -d` line (mapped, writeable/private, shared, in K) and the size of
    each mapping from `pmap -q` equal ours (--sizes --bytes) divided by 1024."""
    d = lines(args[0])[-1]
    m = re.match(rb'^mapped: (\d+)K\s+writeable/private: (\d+)K\s+shared: (\d+)K\n$', d)
    if not m:
        raise SystemExit('pmap -d last line %r' % d)
    ours = lines(args[2])
    t = TOTAL_RE.match(ours[-1])
    if not t:
        raise SystemExit('our totals line %r' % ours[-1])
    want = [int(x) for x in m.groups()]
    got = [int(t.group(g)) >> 10 for g in (2, 3, 4)]
    if want != got:
        raise SystemExit('pmap -d says mapped/writeable-private/shared %r K, we say %r K' % (want, got))
    psizes = [int(re.split(rb'\s+', l.strip())[1][:-1]) for l in lines(args[1])
              if re.match(rb'^[0-9a-f]{8,16} ', l)]  # not its 'PID: command' line
    osizes = [int(re.split(rb'\s+', l.strip())[1]) >> 10 for l in ours[:-1]]
    if psizes != osizes:
        raise SystemExit('pmap -q sizes %r, ours %r' % (psizes[:10], osizes[:10]))
    print('%d mappings, mapped %dK' % (len(psizes), want[0]))

SUM_RE = re.compile(rb'^ *(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\S+) +(\S+) +(\S+) +(\S+) (.*)\n$')

def cmd_summary(args):
    """summary OUT PID COMM PROCFILE bytes|human [FILTERS...]: the line of
    PID in `maps --summary`: counts by kind and sizes as /proc's lines give."""
    pid, comm, fs, unit = int(args[1]), args[2].encode(), [fields(l) for l in lines(args[3])], args[4]
    fs = filtered(fs, args[5:])
    t = totals(fs)
    rows = [SUM_RE.match(l) for l in lines(args[0]) if not l.lstrip().startswith(b'PID ')]
    if not all(rows):
        raise SystemExit('a line that is not a summary row')
    mine = [r for r in rows if int(r.group(1)) == pid]
    if len(mine) != 1:
        raise SystemExit('%d rows for pid %d' % (len(mine), pid))
    r = mine[0]
    got = [int(r.group(i)) for i in range(2, 9)]
    want = [t['mappings']] + [t['kinds'][k]['count'] for k in KINDS]
    if got != want:
        raise SystemExit('counts %r, /proc gives %r' % (got, want))
    for g, k in ((9, 'mapped'), (10, 'writeable_private'), (11, 'shared'), (12, 'exec')):
        if not size_ok(r.group(g).decode(), t[k], unit):
            raise SystemExit('%s %s, /proc says %d' % (k, r.group(g).decode(), t[k]))
    if r.group(13) != comm:
        raise SystemExit('comm %r' % r.group(13))
    print(len(rows))

def cmd_json_sizes(args):
    """json-sizes OUT PID PROCFILE [FILTERS...]: `maps --sizes --json` (or
    --summary --json): each mapping's size is end - start, and the process's
    totals are /proc's."""
    d = load_json(args[0])
    pid, fs = int(args[1]), filtered([fields(l) for l in lines(args[2])], args[3:])
    for m in d['mappings']:
        if m['size'] != m['end'] - m['start']:
            raise SystemExit('size %r' % m)
    ps = [p for p in d['processes'] if p['pid'] == pid]
    if len(ps) != 1:
        raise SystemExit('%d process entries for %d' % (len(ps), pid))
    if ps[0]['totals'] != totals(fs):
        raise SystemExit('totals %r, /proc gives %r' % (ps[0]['totals'], totals(fs)))
    print(len(d['mappings']))

def cmd_svg(args):
    """svg FILE PID PROCFILE [PID PROCFILE]...: well-formed XML, an <svg>;
    for each PID every /proc line is the <title> of one mapping element
    (class "vma", data-pid PID) with its start and end, in the same number."""
    import xml.etree.ElementTree as ET
    ns = '{http://www.w3.org/2000/svg}'
    root = ET.parse(args[0]).getroot()
    if root.tag != ns + 'svg':
        raise SystemExit('root is %s' % root.tag)
    rects = [e for e in root.iter(ns + 'rect') if e.get('class') == 'vma']
    for pid, proc in zip(args[1::2], args[2::2]):
        mine = [e for e in rects if e.get('data-pid') == pid]
        want = [l.rstrip(b'\n').decode('utf-8') for l in lines(proc)]
        got = []
        for e in mine:
            t = e.find(ns + 'title')
            got.append(t.text if t is not None else None)
            f = fields(t.text.encode('utf-8') + b'\n')
            if (int(e.get('data-start'), 16), int(e.get('data-end'), 16), e.get('data-perms')) != \
               (f['start'], f['end'], f['perms']):
                raise SystemExit('data- attributes of %r' % t.text)
        missing = [w for w in want if w not in got]
        if missing or len(got) != len(want):
            raise SystemExit('pid %s: %d mapping elements for %d /proc lines; missing %r'
                             % (pid, len(got), len(want), missing[:3]))
    print(len(rects))

def cmd_png(args):
    """png FILE MIN_W MIN_H: a valid PNG (signature, chunk CRCs, IHDR, zlib
    IDAT of the right length), at least MIN_W x MIN_H, and more than one
    colour among its pixels."""
    import struct, zlib
    data = open(args[0], 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG signature')
    i, idat, ihdr, end = 8, b'', None, False
    while i < len(data):
        n, typ = struct.unpack('>I4s', data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        crc, = struct.unpack('>I', data[i + 8 + n:i + 12 + n])
        if zlib.crc32(typ + body) != crc:
            raise SystemExit('bad CRC in chunk %r' % typ)
        if typ == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif typ == b'IDAT':
            idat += body
        elif typ == b'IEND':
            end = True
            break
        i += 12 + n
    if not ihdr or not end:
        raise SystemExit('no IHDR or IEND')
    w, h, depth, ctype, _, _, interlace = ihdr
    if w < int(args[1]) or h < int(args[2]):
        raise SystemExit('%dx%d, smaller than %sx%s' % (w, h, args[1], args[2]))
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise SystemExit('unexpected format: depth %d colour type %d interlace %d' % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise SystemExit('image data %d bytes, want %d' % (len(raw), h * (stride + 1)))
    colours, prev = set(), bytearray(stride)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif ft != 0:
                raise SystemExit('bad filter type %d' % ft)
        if y % 4 == 0:
            colours.update(bytes(line[k:k + 3]) for k in range(0, stride, bpp * 3))
        prev = line
    if len(colours) < 2:
        raise SystemExit('one colour only')
    print('%dx%d, %d colours sampled' % (w, h, len(colours)))

COMMANDS = {k[4:].replace('_', '-'): v for k, v in globals().items() if k.startswith('cmd_')}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit('usage: oracle.py COMMAND ARGS... (commands: %s)' % ', '.join(sorted(COMMANDS)))
    COMMANDS[sys.argv[1]](sys.argv[2:])
