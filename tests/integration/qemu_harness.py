"""A small harness for QEMU under qtest: drive memory, I/O ports and PCI config space
(-qtest) and the monitor (-qmp) over unix sockets. Standard library only.

    with Qemu(['-device', 'edu,id=edu0,mmiotrace=on']) as q:
        bar = q.pci_map_bar(slot=2, bar=0, addr=0xfe000000)
        assert q.readl(bar) == 0x010000ed
        q.qmp('mmiotrace-mark', text='hello')
"""
import json
import os
import socket
import subprocess
import sys
import tempfile

QEMU = os.environ.get('HVMMIO_QEMU') or os.path.expanduser(
    os.path.join(os.environ.get('HVMMIO_CACHE_DIR') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or '~/.cache', 'hvmmio'),
        'qemu', 'current', 'src', 'build', 'qemu-system-x86_64'))
FIRMWARE = ['-L', '/usr/share/seabios', '-L', '/usr/share/qemu']


class QemuError(Exception):
    pass


class QmpError(Exception):
    def __init__(self, cmd, error):
        super().__init__(f"{cmd}: {error.get('desc')}")
        self.desc = error.get('desc', '')


class Qemu:
    def __init__(self, args, cwd=None, machine='q35', memory=None, timeout=60):
        self.dir = tempfile.mkdtemp(prefix='hvmmio-qtest-')
        self.cwd = cwd or self.dir
        self.args = args
        self.machine = machine
        self.memory = memory
        self.timeout = timeout
        self.proc = None
        self.irqs = []
        self.events = []

    def start(self):
        qt_path = os.path.join(self.dir, 'qtest.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        listeners = []
        for path in (qt_path, qmp_path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            s.settimeout(self.timeout)
            listeners.append(s)
        cmd = [QEMU] + FIRMWARE + ['-machine', self.machine, '-accel', 'qtest',
                                   '-qtest', 'unix:' + qt_path, '-qtest-log', '/dev/null',
                                   '-qmp', 'unix:' + qmp_path, '-nodefaults',
                                   '-display', 'none']
        if self.memory:
            cmd += ['-m', self.memory]
        cmd += self.args
        self.stderr_path = os.path.join(self.dir, 'stderr.txt')
        self.stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=subprocess.STDOUT)
        try:
            self.qt = listeners[0].accept()[0]
            self.qmp_sock = listeners[1].accept()[0]
        except OSError:
            self.proc.wait(timeout=self.timeout)
            raise QemuError('QEMU did not start: ' + self.read_stderr())
        finally:
            for s in listeners:
                s.close()
        self.qt.settimeout(self.timeout)
        self.qmp_sock.settimeout(self.timeout)
        self.qt_file = self.qt.makefile('rw', buffering=1)
        self.qmp_file = self.qmp_sock.makefile('rw', buffering=1)
        try:
            json.loads(self.qmp_file.readline())  # greeting
            self.qmp('qmp_capabilities')
        except (OSError, ValueError):
            # QEMU connects before it creates devices: a bad -device ends it here
            self.proc.wait(timeout=self.timeout)
            raise QemuError('QEMU exited: ' + self.read_stderr())
        return self

    def read_stderr(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.quit()

    def quit(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp('quit')
            except (OSError, QmpError, ValueError):
                pass
            try:
                self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode

    # ---- QMP ----
    def qmp(self, cmd, **args):
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.qmp_file.write(json.dumps(msg) + '\n')
        while True:
            resp = json.loads(self.qmp_file.readline())
            if 'event' in resp:
                self.events.append(resp)    # kept for tests that check QMP events
                continue
            if 'error' in resp:
                raise QmpError(cmd, resp['error'])
            return resp['return']

    def hmp(self, line):
        return self.qmp('human-monitor-command', **{'command-line': line})

    # ---- qtest ----
    def qtest(self, line):
        self.qt_file.write(line + '\n')
        while True:
            resp = self.qt_file.readline()
            if not resp:
                raise QemuError(f'QEMU went away during "{line}": ' + self.read_stderr())
            if resp.startswith('IRQ '):
                self.irqs.append(resp.split()[1:])   # e.g. ['raise', '16']
                continue
            if not resp.startswith('OK'):
                raise QemuError(f'qtest "{line}" answered "{resp.strip()}"')
            return resp.split()[1:] if len(resp.split()) > 1 else []

    def _read(self, op, addr):
        return int(self.qtest(f'{op} 0x{addr:x}')[0], 16)

    def readb(self, a): return self._read('readb', a)
    def readw(self, a): return self._read('readw', a)
    def readl(self, a): return self._read('readl', a)
    def readq(self, a): return self._read('readq', a)

    def writeb(self, a, v): self.qtest(f'writeb 0x{a:x} 0x{v:x}')
    def writew(self, a, v): self.qtest(f'writew 0x{a:x} 0x{v:x}')
    def writel(self, a, v): self.qtest(f'writel 0x{a:x} 0x{v:x}')
    def writeq(self, a, v): self.qtest(f'writeq 0x{a:x} 0x{v:x}')

    def read(self, width, a):
        return {1: self.readb, 2: self.readw, 4: self.readl, 8: self.readq}[width](a)

    def write(self, width, a, v):
        {1: self.writeb, 2: self.writew, 4: self.writel, 8: self.writeq}[width](a, v)

    # ---- PCI config space through ports 0xcf8/0xcfc (bus 0) ----
    def _cfg_addr(self, slot, off, fn=0):
        return 0x80000000 | (slot << 11) | (fn << 8) | (off & 0xfc)

    def cfg_readl(self, slot, off):
        self.qtest(f'outl 0xcf8 0x{self._cfg_addr(slot, off):x}')
        return int(self.qtest('inl 0xcfc')[0], 16)

    def cfg_writel(self, slot, off, val):
        self.qtest(f'outl 0xcf8 0x{self._cfg_addr(slot, off):x}')
        self.qtest(f'outl 0xcfc 0x{val:x}')

    def cfg_writew(self, slot, off, val):
        self.qtest(f'outl 0xcf8 0x{self._cfg_addr(slot, off):x}')
        self.qtest(f'outw 0x{0xcfc + (off & 2):x} 0x{val:x}')

    def pci_bar_size(self, slot, bar):
        off = 0x10 + 4 * bar
        old = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, 0xffffffff)
        mask = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, old)
        return (~(mask & ~0xf) & 0xffffffff) + 1

    def pci_map_bar(self, slot, bar, addr, enable=True):
        """Place a memory BAR at addr (64-bit BARs: upper half too) and turn on decoding."""
        off = 0x10 + 4 * bar
        low = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, addr & 0xffffffff)
        if low & 0x4:
            self.cfg_writel(slot, off + 4, addr >> 32)
        if enable:
            self.pci_memory_decoding(slot, True)
        return addr

    def pci_memory_decoding(self, slot, on):
        cmd = self.cfg_readl(slot, 0x04) & 0xffff
        self.cfg_writew(slot, 0x04, (cmd | 0x2) if on else (cmd & ~0x2))


def parse_trace(path):
    """The records of a trace file as dicts (independent of libmmiotrace: fields by the
    kernel's formats, extensions as key=value)."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split(' asm=')[0].split()
            if not parts:
                continue
            kind = parts[0]
            ext = dict(p.split('=', 1) for p in parts if '=' in p)
            if kind in ('R', 'W'):
                out.append(dict(type=kind, width=int(parts[1]), map=int(parts[3]),
                                phys=int(parts[4], 16), value=int(parts[5], 16),
                                pc=int(parts[6], 16), ext=ext))
            elif kind == 'MAP':
                out.append(dict(type=kind, map=int(parts[2]), phys=int(parts[3], 16),
                                len=int(parts[5], 16), ext=ext))
            elif kind == 'UNMAP':
                out.append(dict(type=kind, map=int(parts[2]), ext=ext))
            elif kind == 'MARK':
                out.append(dict(type=kind, text=line.split(' ', 2)[2].rstrip('\n')))
            else:
                out.append(dict(type=kind, line=line.rstrip('\n')))
    return out


def kvm_usable():
    """None if /dev/kvm can be opened here, else why not (for a test's SKIP)."""
    if not os.path.exists('/dev/kvm'):
        return 'no /dev/kvm on this machine'
    try:
        os.close(os.open('/dev/kvm', os.O_RDWR))
    except OSError as e:
        return f'/dev/kvm cannot be opened: {e.strerror}'
    return None


class Checker:
    """Counts checks and prints them as TAP (meson's protocol: 'tap'): one line per check,
    the lines of detail behind '#', the plan at the end; the exit status for the runner."""
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, what, detail=''):
        n = self.passed + self.failed + 1
        if cond:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'ok' if cond else 'not ok'} {n} - {what}")
        if not cond and detail:
            for line in str(detail).splitlines()[:20]:
                print(f'#   {line}')
        sys.stdout.flush()
        return cond

    # the TAP-style name used by newer tests
    ok = check

    def equal(self, got, want, what):
        return self.check(got == want, f'{what}: got {got!r}, want {want!r}' if got != want
                          else what)

    def skip_all(self, why):
        """Nothing can run here (no KVM, no QEMU build): a TAP skip, exit status 0."""
        print(f'1..0 # SKIP {why}')
        return 0

    def done(self):
        print(f'1..{self.passed + self.failed}')
        print(f'# {self.passed} checks passed, {self.failed} failed')
        return 1 if self.failed else 0
