#!/usr/bin/env python3
"""Write hvmmio's man pages from its own --help texts, so they cannot drift from them.

    gen-man.py HVMMIO OUTDIR VERSION [PAGE...]

With PAGEs (e.g. hvmmio-stat), the pages written must be exactly those: a command added to
hvmmio without its page in tools/meson.build fails the build.

hvmmio.1 (the commands) and hvmmio-COMMAND.1 for each command listed by `hvmmio --help`:
NAME, SYNOPSIS (its usage line), DESCRIPTION (its summary), OPTIONS (each GOption entry) and
the text that follows them (examples, environment), in man(7) markup.
"""
import re
import subprocess
import sys


def help_text(hvmmio, *args):
    p = subprocess.run([hvmmio, *args, '--help'], capture_output=True, text=True)
    text = p.stdout or p.stderr
    if p.returncode not in (0, 1) or not text.strip():
        sys.exit(f'gen-man: {" ".join([hvmmio, *args])} --help failed')
    return text


def esc(s):
    """Text for man(7): backslashes and hyphens escaped, no line starting with . or '."""
    s = s.replace('\\', '\\e').replace('-', '\\-')
    return '\n'.join(('\\&' + l) if l.startswith(('.', "'")) else l for l in s.split('\n'))


def parse_goption(text):
    """Usage line, summary paragraphs, [(option, description)], text after the options."""
    lines = text.rstrip('\n').split('\n')
    usage, i = '', 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and lines[i].startswith('Usage:'):
        i += 1
        usage = lines[i].strip() if i < len(lines) else ''
        i += 1
    summary, opts, after = [], [], []
    section = 'summary'
    for line in lines[i:]:
        if re.match(r'^(Help|Application) Options:$', line):
            section = 'options'
            continue
        if section == 'options':
            m = re.match(r'^  (-\S.*?)\s{2,}(\S.*)$', line)
            if m:
                opts.append([m.group(1).strip(), m.group(2).strip()])
                continue
            if line.startswith('   ') and opts:
                opts[-1][1] += ' ' + line.strip()
                continue
            if not line.strip():
                continue
            section = 'after'
        (summary if section == 'summary' else after).append(line)
    return usage, '\n'.join(summary).strip(), opts, '\n'.join(after).strip()


def page(name, section_title, version, usage, summary, opts, after, see_also):
    out = [f'.TH {name.upper()} 1 "" "hvmmio {version}" "{section_title}"',
           '.SH NAME', f'{esc(name)} \\- {esc(summary.splitlines()[0]) if summary else ""}',
           '.SH SYNOPSIS', f'.B {esc(usage)}' if usage else '', '.SH DESCRIPTION']
    for para in re.split(r'\n\s*\n', summary):
        out += ['.PP', esc(' '.join(l.strip() for l in para.splitlines()))]
    if opts:
        out.append('.SH OPTIONS')
        for opt, desc in opts:
            out += ['.TP', f'.B {esc(opt)}', esc(desc)]
    if after:
        out.append('.SH NOTES')
        for para in re.split(r'\n\s*\n', after):
            out += ['.PP', '.nf', esc(para), '.fi']
    out += ['.SH SEE ALSO', ', '.join(f'\\fB{esc(s)}\\fR(1)' for s in see_also)]
    return '\n'.join(l for l in out if l != '') + '\n'


def main():
    hvmmio, outdir, version = sys.argv[1:4]
    expected = sys.argv[4:]
    top = help_text(hvmmio)
    commands = []
    in_cmds = False
    for line in top.splitlines():
        if line.startswith('Commands:'):
            in_cmds = True
            continue
        m = re.match(r'^  ([a-z][a-z0-9-]*)\s+(.*)$', line)
        if in_cmds and m:
            commands.append((m.group(1), m.group(2)))
        elif in_cmds and line.strip() and not line.startswith('  '):
            in_cmds = False
    if not commands:
        sys.exit('gen-man: no commands in hvmmio --help')
    # hvmmio.1: the overview and the commands
    intro = top.split('Commands:')[0]
    intro = '\n'.join(l for l in intro.splitlines() if not l.startswith('Usage:'))
    out = [f'.TH HVMMIO 1 "" "hvmmio {version}" "hvmmio"', '.SH NAME',
           'hvmmio \\- trace a PCI device\'s MMIO accesses in the hypervisor',
           '.SH SYNOPSIS', '.B hvmmio', '.I COMMAND', '[\\fIOPTIONS\\fR...]',
           '.SH DESCRIPTION', '.PP', esc(' '.join(intro.split())), '.SH COMMANDS']
    for c, d in commands:
        out += ['.TP', f'.B {c}', esc(d) + f' (see \\fBhvmmio\\-{c}\\fR(1))']
    out += ['.SH SEE ALSO', ', '.join(f'\\fBhvmmio\\-{c}\\fR(1)' for c, _ in commands)]
    open(f'{outdir}/hvmmio.1', 'w').write('\n'.join(out) + '\n')
    for c, d in commands:
        usage, summary, opts, after = parse_goption(help_text(hvmmio, c))
        if not summary:
            summary = d
        if not usage:
            usage = f'hvmmio {c} [OPTIONS...]'
        text = page(f'hvmmio-{c}', 'hvmmio', version, usage, d + '\n\n' + summary, opts,
                    after, ['hvmmio'])
        open(f'{outdir}/hvmmio-{c}.1', 'w').write(text)
    pages = ['hvmmio'] + [f'hvmmio-{c}' for c, _ in commands]
    if expected and sorted(expected) != sorted(pages):
        sys.exit(f'gen-man: hvmmio has the pages {" ".join(pages)}, tools/meson.build lists '
                 f'{" ".join(expected)}')
    print(' '.join(pages))


if __name__ == '__main__':
    main()
