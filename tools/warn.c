/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: naming the malformed lines a trace reader skips (warn.h). */
#include <stdio.h>

#include "warn.h"

void hvmmio_warn_line(void *opaque, const char *message)
{
    struct hvmmio_warn *w = opaque;

    if (++w->count <= w->max) {
        fprintf(stderr, "%s: warning: %s (line skipped)\n", w->prog, message);
    }
}
