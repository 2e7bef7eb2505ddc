#!/usr/bin/env python3
"""hvmmio-testdev's error handling and life cycle without QEMU: bad socket paths are refused
with a clear message (exit 1), bad usage exits 2, a socket in use is not stolen, a stale one
is replaced, SIGTERM and SIGINT end the server with status 0 and remove its socket.
Prints TAP; SKIP (with the reason) without the server.

Environment: TESTDEV (the server), OUT.
"""
import os
import shutil
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import TESTDEV, Checker, Testdev  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-testdev-errors'
c = Checker()


def refused(want, pattern, *args):
    """The server, run with args, exits with status want saying pattern on stderr."""
    r = subprocess.run([TESTDEV] + list(args), capture_output=True, text=True, timeout=10)
    ok = r.returncode == want and pattern in r.stderr
    shown = ' '.join(a if len(a) < 60 else a[:30] + '...' + a[-10:] for a in args)
    c.check(ok, f'hvmmio-testdev {shown}: exit {want}, "{pattern}"',
            f'exit {r.returncode}, stderr: {r.stderr.strip()}')


def is_socket(path):
    return os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode)


def bad_paths():
    missing = os.path.join(OUT, 'missing')
    refused(1, f'directory {missing} does not exist', os.path.join(missing, 's.sock'))
    c.check(not os.path.exists(missing), 'the missing directory was not created')

    plain = os.path.join(OUT, 'plain')
    with open(plain, 'w') as f:
        f.write('keep\n')
    refused(1, 'is not a socket; refusing to replace it', plain)
    with open(plain) as f:
        c.equal(f.read(), 'keep\n', 'an existing non-socket file is left alone')

    refused(1, 'socket path is too long', os.path.join(OUT, 'x' * 120 + '.sock'))


def usage():
    refused(2, 'name the socket path', '--verbose')
    refused(2, 'only one socket path', 'a', 'b')
    refused(2, 'Unknown option', '--bogus', os.path.join(OUT, 's'))
    r = subprocess.run([TESTDEV, '--help'], capture_output=True, text=True, timeout=10)
    c.check('docs/testdev.md' in r.stdout, '--help points at docs/testdev.md', r.stdout)


def life_cycle():
    sock = os.path.join(OUT, 't.sock')
    with Testdev(sock, os.path.join(OUT, 'a.log')) as first:
        refused(1, 'is in use by another server', sock)
        c.check(first.proc.poll() is None,
                'the first server lives on when a second one tries its socket')
        c.check(is_socket(sock), 'the second server left the first one\'s socket alone')
        first.proc.send_signal(signal.SIGTERM)
        c.equal(first.wait(), 0, 'SIGTERM: exit status 0')
        c.check(not os.path.exists(sock), 'SIGTERM: the socket is removed')

    with Testdev(sock, os.path.join(OUT, 'b.log')) as t:
        t.proc.kill()
        t.proc.wait()
    c.check(is_socket(sock), 'a stale socket stays after SIGKILL (the premise of the next check)')
    with Testdev(sock, os.path.join(OUT, 'c.log')) as t:
        c.check(True, 'a stale socket is replaced: the server listens')
        t.proc.send_signal(signal.SIGINT)
        c.equal(t.wait(), 0, 'SIGINT: exit status 0')
        c.check(not os.path.exists(sock), 'SIGINT: the socket is removed')


def main():
    if not os.path.exists(TESTDEV):
        return c.skip_all(f'hvmmio-testdev is not built ({TESTDEV})')
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    bad_paths()
    usage()
    try:
        life_cycle()
    except RuntimeError as e:     # a server that did not start listening
        c.check(False, 'the server listens', e)
    return c.done()


if __name__ == '__main__':
    sys.exit(main())
