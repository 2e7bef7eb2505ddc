#!/usr/bin/env python3
"""style: no C file of the project over 600 lines, no function over 80 lines.

Exceptions are listed, each with its reason, in sizes-allowed.txt beside this script
("PATH 1234 reason" for a file, "PATH:FUNCTION 123 reason" for a function, the number
being the most it may reach). An entry that no longer applies fails too, so the list
only shrinks. Functions are found as the code is formatted here (QEMU, kernel and
.clang-format styles alike): a definition's body opens with '{' in column 0 and
closes with '}' in column 0. Prints TAP: one line per file.
"""
import os
import re
import subprocess
import sys

FILE_MAX, FUNC_MAX = 600, 80
ROOTS = ('trace', 'tools', 'hw', 'tests', 'examples', 'kernel-guest')
NAME = re.compile(r'(\w+)\s*\(')


def c_files(top):
    try:
        out = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '--', *ROOTS],
                             cwd=top, capture_output=True, text=True, check=True).stdout
        files = out.split()
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, f), top)
                 for r in ROOTS for d, _, fs in os.walk(os.path.join(top, r)) for f in fs]
    return sorted(f for f in files if f.endswith('.c') and os.path.isfile(os.path.join(top, f)))


def functions(lines):
    """(name, first line, length) of each function definition."""
    start = None
    for i, line in enumerate(lines):
        if start is None and line.rstrip() == '{':
            j = i - 1
            while j > 0 and '(' not in lines[j]:
                j -= 1
            m = NAME.search(lines[j]) if j >= 0 else None
            start = (i, m.group(1) if m else '?')
        elif start is not None and line.startswith('}') and not line.startswith('};'):
            yield start[1], start[0] + 1, i - start[0] + 1
            start = None


def load_allowed(path):
    allowed = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or not parts[1].isdigit():
                sys.exit(f'{path}:{n}: expected "PATH[:FUNCTION] MAX reason"')
            allowed[parts[0]] = int(parts[1])
    return allowed


def main():
    top = os.environ.get('HVMMIO_TOP') or os.path.join(os.path.dirname(__file__), '..', '..')
    allowed_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sizes-allowed.txt')
    allowed = load_allowed(allowed_path)
    used = set()
    files = c_files(top)
    bad = 0
    for n, rel in enumerate(files, 1):
        with open(os.path.join(top, rel), errors='replace') as f:
            lines = f.read().split('\n')
        problems = []
        size = len(lines) - (1 if lines and lines[-1] == '' else 0)
        if size > FILE_MAX:
            if size <= allowed.get(rel, -1):
                used.add(rel)
            else:
                problems.append(f'{size} lines (most: {FILE_MAX})')
        for name, first, length in functions(lines):
            key = f'{rel}:{name}'
            if length <= FUNC_MAX:
                continue
            if length <= allowed.get(key, -1):
                used.add(key)
            else:
                problems.append(f'{name}() at line {first}: {length} lines (most: {FUNC_MAX})')
        if problems:
            bad += 1
            print(f'not ok {n} - {rel}')
            for p in problems:
                print(f'#   {p}')
        else:
            print(f'ok {n} - {rel}')
    stale = sorted(set(allowed) - used)
    total = len(files) + 1
    if stale:
        bad += 1
        print(f'not ok {total} - sizes-allowed.txt lists what no longer needs an exception')
        for s in stale:
            print(f'#   {s}: remove its line')
    else:
        print(f'ok {total} - sizes-allowed.txt has no stale entry')
    print(f'1..{total}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
