/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the counter tracks (the value history of the busiest
 * registers). Which registers are the busiest is known only at the end of the trace, so every
 * access's sample goes to a spool (a temporary file, unlinked at once, 24 bytes a sample) as
 * the trace is read once; at the end the samples of the chosen registers are written as
 * counter events after the others (the trace event format does not need events in time
 * order). Memory stays flat; the spool is a tenth of the JSON written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fastfmt.h"
#include "perfetto.h"
#include "workbench.h"

#define W_LIT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) += sizeof(lit) - 1)
#define SPOOL_BUF (1 << 20)
#define SAMPLES_READ 4096 /* samples written or read back at once */

struct sample {
    uint64_t ts_ns, value;
    uint32_t id; /* struct reg_count's */
    uint32_t pad;
};

struct spool_buf {
    size_t n;
    struct sample s[SAMPLES_READ];
};

bool pf_spool_open(struct pf *p, const char *prog)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("hvmmio-perfetto-XXXXXX", &path, &error);
    if (fd < 0) {
        fprintf(stderr, "%s: a temporary file for the counter samples: %s\n", prog, error->message);
        return false;
    }
    g_unlink(path); /* gone with the process, whatever happens */
    p->spool = fdopen(fd, "w+b");
    if (!p->spool) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        close(fd);
        return false;
    }
    setvbuf(p->spool, NULL, _IOFBF, SPOOL_BUF);
    p->sbuf = g_new0(struct spool_buf, 1);
    return true;
}

static void spool_flush(struct pf *p)
{
    fwrite(p->sbuf->s, sizeof(struct sample), p->sbuf->n, p->spool);
    p->sbuf->n = 0;
}

void pf_spool_sample(struct pf *p, const struct reg_count *c, uint64_t ts_ns, uint64_t value)
{
    p->sbuf->s[p->sbuf->n++] = (struct sample){ts_ns, value, c->id, 0};
    if (p->sbuf->n == SAMPLES_READ) {
        spool_flush(p);
    }
}

/* One counter event, separator first: {"ph":"C","name":...,"ts":...,"pid":..,"args":{..}} */
static void counter_event(struct pf *p, const struct reg_count *c, const struct sample *s)
{
    GString *o = p->s;
    size_t clen = strlen(c->cname);
    ff_room(o, 128 + clen);
    char *w = o->str + o->len;
    W_LIT(w, ",\n{\"ph\":\"C\",\"name\":");
    memcpy(w, c->cname, clen);
    w += clen;
    W_LIT(w, ",\"ts\":");
    w = pf_w_ts(w, s->ts_ns);
    W_LIT(w, ",\"pid\":");
    w = ff_dec_at(w, (uint64_t)c->pid, 1);
    /* a JSON number: exact up to 2^53 */
    W_LIT(w, ",\"args\":{\"value\":");
    w = ff_dec_at(w, s->value, 1);
    W_LIT(w, "}}");
    o->len = (gsize)(w - o->str);
    o->str[o->len] = 0;
    p->first = false;
    p->counters++;
    pf_emit(p);
}

int pf_spool_write(struct pf *p, const char *prog, unsigned n)
{
    if (!p->spool || !n) {
        return 0;
    }
    spool_flush(p);
    if (fflush(p->spool) || ferror(p->spool) || fseeko(p->spool, 0, SEEK_SET)) {
        fprintf(stderr, "%s: the counter samples' temporary file: %s\n", prog, strerror(errno));
        return -1;
    }
    static struct sample buf[SAMPLES_READ];
    size_t got;
    while ((got = fread(buf, sizeof(buf[0]), SAMPLES_READ, p->spool)) > 0) {
        for (size_t i = 0; i < got; i++) {
            const struct reg_count *c =
                buf[i].id < p->reg_list->len ? p->reg_list->pdata[buf[i].id] : NULL;
            if (c && c->counter) {
                counter_event(p, c, &buf[i]);
            }
        }
    }
    if (ferror(p->spool)) {
        fprintf(stderr, "%s: the counter samples' temporary file: %s\n", prog, strerror(errno));
        return -1;
    }
    return 0;
}
