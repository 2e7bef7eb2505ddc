/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: command dispatch. */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", hvmmio_cmd_run, "boot a guest scenario under hvmmio's QEMU and collect its results"},
    {"qemu", hvmmio_cmd_qemu, "run hvmmio's patched qemu-system-x86_64 with your own arguments"},
    {"stat", hvmmio_cmd_stat, "summarise mmiotrace files: records, devices, busiest registers"},
    {"convert", hvmmio_cmd_convert, "convert traces between text, compressed text and JSON Lines"},
    {"replay", hvmmio_cmd_replay,
     "replay a recorded trace in place of the device and check the driver"},
    {"compare", hvmmio_cmd_compare, "check a guest kernel mmiotrace log against the host trace"},
    {"witness", hvmmio_cmd_witness,
     "check a host trace of the test device against the device's own log"},
    {"decode", hvmmio_cmd_decode,
     "print a trace with register names, bitfields and symbolised PCs"},
    {"symbolize", hvmmio_cmd_symbolize, "add sym=function+0xoff facts to a trace's accesses"},
    {"report", hvmmio_cmd_report, "write a self-contained HTML report with charts of a trace"},
    {"bench", hvmmio_cmd_bench, "measure the cost of a traced access and the tools' throughput"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: hvmmio COMMAND [OPTIONS...]\n\n"
                 "hvmmio traces a PCI device's MMIO accesses in the hypervisor and writes them\n"
                 "in the Linux kernel's mmiotrace format.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\nRun 'hvmmio COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("hvmmio %s\n", HVMMIO_VERSION);
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            g_autofree char *prog = g_strdup_printf("hvmmio %s", commands[i].name);
            argv[1] = prog;
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "hvmmio: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
