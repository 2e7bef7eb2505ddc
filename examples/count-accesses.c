/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An example of libmmiotrace (pkg-config libmmiotrace): count the reads and writes of each
 * device of a trace (plain, .gz, .xz, .zst or JSON Lines; hvmmio's or the kernel's).
 *
 *   cc count-accesses.c $(pkg-config --cflags --libs libmmiotrace) -o count-accesses
 *   ./count-accesses trace.txt
 *
 * Prints "DEVICE READS WRITES" per device (kernel traces have no device: "-"), then
 * "total READS WRITES"; exits 1 on a malformed trace with the reader's FILE:LINE message.
 */
#include <mmiotrace.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEVS 64

struct dev {
    char name[MMIOTRACE_DEV_MAX + 1];
    unsigned long long reads, writes;
};

int main(int argc, char **argv)
{
    static struct dev devs[MAX_DEVS];
    unsigned ndevs = 0;
    unsigned long long reads = 0, writes = 0;
    struct mmiotrace_record rec;
    struct mmiotrace_reader *r;
    int got;

    if (argc != 2) {
        fprintf(stderr, "usage: %s TRACE\n", argv[0]);
        return 2;
    }
    r = mmiotrace_reader_open(argv[1]);
    if (!r) {
        perror(argv[1]);
        return 1;
    }
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        if (rec.type != MMIOTRACE_READ && rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        char name[MMIOTRACE_DEV_MAX + 1] = "-";
        if (rec.ext & MMIOTRACE_EXT_DEV) {
            memcpy(name, rec.dev, rec.dev_len);
            name[rec.dev_len] = '\0';
        }
        unsigned i = 0;
        while (i < ndevs && strcmp(devs[i].name, name)) {
            i++;
        }
        if (i == ndevs && ndevs < MAX_DEVS) {
            strcpy(devs[ndevs++].name, name);
        }
        if (i < ndevs) {
            rec.type == MMIOTRACE_READ ? devs[i].reads++ : devs[i].writes++;
        }
        rec.type == MMIOTRACE_READ ? reads++ : writes++;
    }
    if (got < 0) {
        fprintf(stderr, "%s\n", mmiotrace_reader_error(r));
        mmiotrace_reader_free(r);
        return 1;
    }
    mmiotrace_reader_free(r);
    for (unsigned i = 0; i < ndevs; i++) {
        printf("%s %llu %llu\n", devs[i].name, devs[i].reads, devs[i].writes);
    }
    printf("total %llu %llu\n", reads, writes);
    return 0;
}
