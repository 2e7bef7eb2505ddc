"""Helpers of the faults suite: QEMU under qtest with QMP events kept, a small tmpfs, and
pipelined BAR accesses (tests/integration/qemu_harness.py does the rest)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
from qemu_harness import Checker, Qemu, QemuError, QmpError  # noqa: E402,F401

HVMMIO = os.environ.get('HVMMIO', 'hvmmio')


class EvQemu(Qemu):
    """Qemu (which keeps the QMP events it sees) with helpers of the faults suite."""

    def event_names(self):
        return [e['event'] for e in self.events]

    def burst(self, lines):
        """Send qtest lines and read their answers in one go (much faster than one by one)."""
        self.qt_file.write(''.join(l + '\n' for l in lines))
        self.qt_file.flush()
        for _ in lines:
            while True:
                resp = self.qt_file.readline()
                if not resp:
                    raise QemuError('QEMU went away: ' + self.read_stderr())
                if resp.startswith('IRQ '):
                    continue
                if not resp.startswith('OK'):
                    raise QemuError(f'qtest answered "{resp.strip()}"')
                break

    def writes(self, addr, n, base=0, chunk=2000):
        """n 32-bit writes to addr, of the values base, base + 1, ..."""
        done = 0
        while done < n:
            k = min(chunk, n - done)
            self.burst([f'writel 0x{addr:x} 0x{(base + done + i) & 0xffffffff:x}'
                        for i in range(k)])
            done += k


class Tmpfs:
    """A tmpfs of size bytes (needs root), unmounted at exit."""

    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix='hvmmio-faults-')
        subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', self.dir],
                       check=True)

    def fill(self, leave):
        """Fill it with a filler file so that about leave bytes stay free."""
        st = os.statvfs(self.dir)
        free = st.f_bavail * st.f_frsize
        with open(os.path.join(self.dir, 'filler'), 'wb') as f:
            f.write(b'\0' * max(0, free - leave))

    def free_filler(self):
        os.unlink(os.path.join(self.dir, 'filler'))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        subprocess.run(['umount', '-l', self.dir], check=False)
        os.rmdir(self.dir)


def hvmmio(*args):
    return subprocess.run([HVMMIO] + list(args), capture_output=True, text=True)


def can_mount_tmpfs():
    try:
        with Tmpfs('1M'):
            return True
    except (subprocess.CalledProcessError, OSError, PermissionError):
        return False
