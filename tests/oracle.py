#!/usr/bin/env python3
"""Oracles for the case scripts (tests/cases/*.sh): what the kernel's own
/proc/PID/maps text says, computed without taskvma, and checks of taskvma's
output against it.  Bytes throughout: /proc prints names as they are.

Usage: python3 tests/oracle.py COMMAND ARGS...  (each cmd_* below; a check
prints why and exits 1 when it fails).
"""
import fnmatch, json, re, sys

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

def cmd_all_ok(args):
    """all-ok OUT [order]: `maps --all` output of a live machine: well-formed
    blocks, none empty, more than 5, each pid once (and in pid order)."""
    try:
        bs = blocks(args[0])
    except SystemExit as e:
        raise SystemExit(str(e))
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
    if args[1:] == ['order']:
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

if __name__ == '__main__':
    if len(sys.argv) < 2 or 'cmd_' + sys.argv[1].replace('-', '_') not in globals():
        raise SystemExit('usage: oracle.py COMMAND ARGS... (commands: %s)' % ', '.join(
            sorted(k[4:].replace('_', '-') for k in globals() if k.startswith('cmd_'))))
    globals()['cmd_' + sys.argv[1].replace('-', '_')](sys.argv[2:])
