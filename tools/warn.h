/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: naming the malformed lines a trace reader skips (--skip-bad, stat's default). */
#ifndef HVMMIO_TOOLS_WARN_H
#define HVMMIO_TOOLS_WARN_H

struct hvmmio_warn {
    const char *prog; /* "hvmmio convert", ... */
    unsigned max;     /* lines named; the rest are only counted */
    unsigned count;   /* lines skipped so far */
};

/* A mmiotrace_warn_fn: opaque is a struct hvmmio_warn. */
void hvmmio_warn_line(void *opaque, const char *message);

#endif
