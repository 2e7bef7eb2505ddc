"""Helpers of the faults suite: a small tmpfs, the hvmmio command, QMP event names (QEMU
itself: tests/lib/qemu_harness.py)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, QemuError, QmpError  # noqa: E402,F401

HVMMIO = os.environ.get('HVMMIO', 'hvmmio')


class EvQemu(Qemu):
    """Qemu (which keeps the QMP events it sees) with their names at hand."""

    def event_names(self):
        return [e['event'] for e in self.events]


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
