/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: the command line tool's subcommands. */
#ifndef HVMMIO_TOOLS_HVMMIO_H
#define HVMMIO_TOOLS_HVMMIO_H

/*
 * Each subcommand gets argv with argv[0] = "hvmmio NAME" and returns the process exit
 * status: 0 success, 1 the operation failed (e.g. a mismatch was found), 2 usage error.
 */
int hvmmio_cmd_run(int argc, char **argv);
int hvmmio_cmd_qemu(int argc, char **argv);
int hvmmio_cmd_stat(int argc, char **argv);
int hvmmio_cmd_convert(int argc, char **argv);
int hvmmio_cmd_replay(int argc, char **argv);
int hvmmio_cmd_compare(int argc, char **argv);
int hvmmio_cmd_witness(int argc, char **argv);
int hvmmio_cmd_bench(int argc, char **argv);
int hvmmio_cmd_decode(int argc, char **argv);
int hvmmio_cmd_symbolize(int argc, char **argv);
int hvmmio_cmd_report(int argc, char **argv);
/* hvmmio convert --to perfetto (perfetto.c): true if argv asks for it */
int hvmmio_perfetto_requested(int argc, char **argv);
int hvmmio_perfetto_convert(int argc, char **argv);
/* hvmmio bench --probe (bench-probe.c) */
int hvmmio_bench_probe(int argc, char **argv);

#endif
