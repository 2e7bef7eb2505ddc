"""The one harness of the project's Python tests (tests/integration, tests/faults): QEMU under
qtest, driving memory, I/O ports and PCI config space (-qtest) and the monitor (-qmp) over
unix sockets, or a guest that runs by itself with the monitor only; hvmmio-testdev, the
vfio-user test device server; a trace file reader; TAP output (Checker), with SKIP and the
reason when a test cannot run here. Standard library only (it also runs in the nested guest
image: kernel-guest/nested/).

    with Qemu(['-device', 'edu,id=edu0,mmiotrace=on']) as q:
        bar = q.pci_map_bar(slot=2, bar=0, addr=0xfe000000)
        assert q.readl(bar) == 0x010000ed
        q.qmp('mmiotrace-mark', text='hello')
"""
import atexit
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU = os.environ.get('HVMMIO_QEMU') or os.path.expanduser(
    os.path.join(os.environ.get('HVMMIO_CACHE_DIR') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or '~/.cache', 'hvmmio'),
        'qemu', 'current', 'src', 'build', 'qemu-system-x86_64'))
# where QEMU finds SeaBIOS and its option ROMs (HVMMIO_FIRMWARE: other folders, ':' between)
FIRMWARE = [a for d in os.environ.get('HVMMIO_FIRMWARE', '/usr/share/seabios:/usr/share/qemu')
            .split(':') for a in ('-L', d)]
TESTDEV = os.environ.get('TESTDEV', 'hvmmio-testdev')


class QemuError(Exception):
    pass


class QmpError(Exception):
    def __init__(self, cmd, error):
        super().__init__(f"{cmd}: {error.get('desc')}")
        self.desc = error.get('desc', '')


# The temporary folders of the QEMUs a test started (sockets, QEMU's log): removed when the
# test's process ends, unless HVMMIO_KEEP_TMP is set (a run of the suite makes hundreds).
_TMP_DIRS = []


def _remove_tmp_dirs():
    if not os.environ.get('HVMMIO_KEEP_TMP'):
        for d in _TMP_DIRS:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_tmp_dirs)


class Qemu:
    """QEMU with a QMP socket and, under accel='qtest' (the default), a qtest socket.

    Any other accel (e.g. 'tcg' for a guest that runs by itself) gives QMP only. QEMU's
    stdout and stderr go to log (default: a file in a temporary folder; read_stderr()).
    env: variables to add to QEMU's environment."""

    def __init__(self, args, cwd=None, machine='q35', memory=None, timeout=60, accel='qtest',
                 log=None, env=None):
        self.dir = tempfile.mkdtemp(prefix='hvmmio-qtest-')
        _TMP_DIRS.append(self.dir)
        self.cwd = cwd or self.dir
        self.args = args
        self.machine = machine
        self.memory = memory
        self.timeout = timeout
        self.accel = accel
        self.env = dict(os.environ, **env) if env else None
        self.stderr_path = log or os.path.join(self.dir, 'stderr.txt')
        self.proc = None
        self.qt = None
        self.qt_buf = b''
        self.irqs = []
        self.events = []

    def start(self):
        qt_path = os.path.join(self.dir, 'qtest.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        paths = [qmp_path] + ([qt_path] if self.accel == 'qtest' else [])
        listeners = []
        for path in paths:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            s.settimeout(self.timeout)
            listeners.append(s)
        cmd = [QEMU] + FIRMWARE + ['-machine', self.machine, '-accel', self.accel,
                                   '-qmp', 'unix:' + qmp_path, '-nodefaults',
                                   '-display', 'none']
        if self.accel == 'qtest':
            cmd += ['-qtest', 'unix:' + qt_path, '-qtest-log', '/dev/null']
        if self.memory:
            cmd += ['-m', self.memory]
        cmd += self.args
        self.stderr = open(self.stderr_path, 'w')
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, stdin=subprocess.DEVNULL, env=self.env,
                                     stdout=self.stderr, stderr=subprocess.STDOUT)
        try:
            if self.accel == 'qtest':
                self.qt = listeners[1].accept()[0]
            self.qmp_sock = listeners[0].accept()[0]
        except OSError:
            self.proc.wait(timeout=self.timeout)
            raise QemuError('QEMU did not start: ' + self.read_stderr())
        finally:
            for s in listeners:
                s.close()
        if self.qt:
            self.qt.settimeout(self.timeout)
        self.qmp_sock.settimeout(self.timeout)
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
        """Ask QEMU to quit (if it still runs), wait for it; its exit status."""
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

    def wait(self, timeout=None):
        """Wait for QEMU to exit by itself (a guest that powers off); its exit status."""
        self.proc.wait(timeout=timeout)
        return self.quit()

    # ---- QMP ----
    def qmp(self, cmd, **args):
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.qmp_file.write(json.dumps(msg) + '\n')
        return self._qmp_reply(cmd)

    def _qmp_reply(self, cmd):
        while True:
            line = self.qmp_file.readline()
            if not line:
                raise QemuError(f'QEMU went away during QMP {cmd}: ' + self.read_stderr())
            resp = json.loads(line)
            if 'event' in resp:
                self.events.append(resp)    # kept for tests that check QMP events
                continue
            if 'error' in resp:
                raise QmpError(cmd, resp['error'])
            return resp['return']

    def qmp_repeat(self, count, cmd, **args):
        """Send the same QMP command count times in one write, then read the replies (a
        test of QEMU's monitor under a burst); the replies, in order."""
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.qmp_file.write((json.dumps(msg) + '\n') * count)
        self.qmp_file.flush()
        return [self._qmp_reply(cmd) for _ in range(count)]

    def hmp(self, line):
        return self.qmp('human-monitor-command', **{'command-line': line})

    # ---- qtest ----
    def _qt_line(self, timeout):
        """The next line from the qtest socket (without its newline), or None after timeout
        seconds without one; QemuError if QEMU closed the socket."""
        deadline = time.monotonic() + timeout
        while b'\n' not in self.qt_buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.qt], [], [], left)[0]:
                return None
            data = self.qt.recv(65536)
            if not data:
                raise QemuError('QEMU went away: ' + self.read_stderr())
            self.qt_buf += data
        line, self.qt_buf = self.qt_buf.split(b'\n', 1)
        return line.decode()

    def _qt_answer(self, line):
        """The answer to the qtest command line, setting asynchronous IRQ lines aside."""
        while True:
            resp = self._qt_line(self.timeout)
            if resp is None:
                raise QemuError(f'no answer from QEMU to "{line}" in {self.timeout} s')
            if resp.startswith('IRQ '):
                self.irqs.append(resp.split()[1:])   # e.g. ['raise', '16']
                continue
            if not resp.startswith('OK'):
                raise QemuError(f'qtest "{line}" answered "{resp.strip()}"')
            return resp.split()[1:]

    def qtest(self, line):
        self.qt.sendall((line + '\n').encode())
        return self._qt_answer(line)

    def qtest_many(self, lines):
        """Send qtest lines in one go and read their answers (much faster than one by one
        for long runs of writes); the answers, in order."""
        self.qt.sendall(''.join(l + '\n' for l in lines).encode())
        return [self._qt_answer(l) for l in lines]

    def wait_irq(self, kind, num=None, timeout=2.0):
        """Wait up to timeout seconds for an asynchronous 'IRQ kind [num]' line (after
        irq_intercept_in/out) and consume it; False if none came."""
        deadline = time.monotonic() + timeout
        while True:
            for i, irq in enumerate(self.irqs):
                if irq[0] == kind and (num is None or int(irq[1]) == num):
                    del self.irqs[i]
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            line = self._qt_line(left)
            if line is None:
                return False
            if not line.startswith('IRQ '):
                raise QemuError(f'unexpected qtest line "{line}" while waiting for an IRQ')
            self.irqs.append(line.split()[1:])

    def clock_step(self, ns):
        self.qtest(f'clock_step {ns}')

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

    def writes(self, addr, n, base=0, chunk=2000):
        """n 32-bit writes to addr, of the values base, base + 1, ... (pipelined)"""
        done = 0
        while done < n:
            k = min(chunk, n - done)
            self.qtest_many([f'writel 0x{addr:x} 0x{(base + done + i) & 0xffffffff:x}'
                             for i in range(k)])
            done += k

    # ---- PCI config space through ports 0xcf8/0xcfc (bus 0) ----
    def _cfg_addr(self, slot, off, fn=0):
        return 0x80000000 | (slot << 11) | (fn << 8) | (off & 0xfc)

    def cfg_read(self, width, slot, off):
        """Read config space (bus 0, function 0) at off, width 1, 2 or 4 bytes."""
        self.qtest(f'outl 0xcf8 0x{self._cfg_addr(slot, off):x}')
        op = {1: 'inb', 2: 'inw', 4: 'inl'}[width]
        return int(self.qtest(f'{op} 0x{0xcfc + (off & 3):x}')[0], 16)

    def cfg_write(self, width, slot, off, val):
        self.qtest(f'outl 0xcf8 0x{self._cfg_addr(slot, off):x}')
        op = {1: 'outb', 2: 'outw', 4: 'outl'}[width]
        self.qtest(f'{op} 0x{0xcfc + (off & 3):x} 0x{val:x}')

    def cfg_readb(self, slot, off): return self.cfg_read(1, slot, off)
    def cfg_readw(self, slot, off): return self.cfg_read(2, slot, off)
    def cfg_readl(self, slot, off): return self.cfg_read(4, slot, off)

    def cfg_writeb(self, slot, off, val): self.cfg_write(1, slot, off, val)
    def cfg_writew(self, slot, off, val): self.cfg_write(2, slot, off, val)
    def cfg_writel(self, slot, off, val): self.cfg_write(4, slot, off, val)

    def pci_bar_size(self, slot, bar):
        off = 0x10 + 4 * bar
        old = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, 0xffffffff)
        mask = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, old)
        return (~(mask & ~0xf) & 0xffffffff) + 1

    def pci_map_bar(self, slot, bar, addr, enable=True, master=False):
        """Place a memory BAR at addr (64-bit BARs: upper half too) and turn on decoding
        (and bus mastering with master=True, for a device that does DMA or MSI)."""
        off = 0x10 + 4 * bar
        low = self.cfg_readl(slot, off)
        self.cfg_writel(slot, off, addr & 0xffffffff)
        if low & 0x4:
            self.cfg_writel(slot, off + 4, addr >> 32)
        if master:
            self.cfg_writew(slot, 0x04, 0x6)    # memory space and bus master; I/O off
        elif enable:
            self.pci_memory_decoding(slot, True)
        return addr

    def pci_memory_decoding(self, slot, on):
        cmd = self.cfg_readl(slot, 0x04) & 0xffff
        self.cfg_writew(slot, 0x04, (cmd | 0x2) if on else (cmd & ~0x2))


class Testdev:
    """hvmmio-testdev (docs/testdev.md), the vfio-user test device server, on socket sock
    with its stderr in log (verbose: every message it gets, and the life-cycle lines).

    with Testdev(sock, log) as t:
        with Qemu(t.qemu_args(slot=4)) as q: ...
        t.wait()        # it exits by itself when QEMU leaves"""

    def __init__(self, sock, log, verbose=True, args=()):
        self.sock = sock
        self.log = log
        self.verbose = verbose
        self.args = list(args)
        self.proc = None

    def start(self, timeout=5.0):
        """Start the server and wait until it listens (with verbose: its 'listening on' line,
        as a stale socket may already exist at sock; else the socket, removed first)."""
        if not self.verbose and os.path.exists(self.sock):
            os.unlink(self.sock)
        with open(self.log, 'w') as log:
            self.proc = subprocess.Popen([TESTDEV] + (['--verbose'] if self.verbose else [])
                                         + self.args + [self.sock], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.verbose and 'hvmmio-testdev: listening on ' in self.read_log():
                return self
            if not self.verbose and os.path.exists(self.sock):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError('hvmmio-testdev exited before it listened: ' + self.read_log())
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError(f'hvmmio-testdev is not listening on {self.sock} after {timeout} s')

    def read_log(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def device(self, slot=4, dev_id='testdev', **props):
        """The -device value (JSON) of a vfio-user-pci client of this server."""
        return json.dumps({'driver': 'vfio-user-pci', 'id': dev_id, 'addr': f'{slot:02x}.0',
                           'socket': {'type': 'unix', 'path': self.sock}, **props})

    @staticmethod
    def memory_args(size='128M'):
        """QEMU arguments for guest RAM the server can map (vfio-user needs shared RAM)."""
        return ['-object', f'memory-backend-memfd,id=mem,size={size},share=on',
                '-machine', 'memory-backend=mem']

    def wait(self, timeout=5.0):
        """Wait for the server to exit by itself; its exit status, or None if it did not
        within timeout seconds (it is then killed)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


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
