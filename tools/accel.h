/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: choosing QEMU's accelerator (KVM where it is fast, TCG otherwise). */
#ifndef HVMMIO_TOOLS_ACCEL_H
#define HVMMIO_TOOLS_ACCEL_H

#include <stdbool.h>

struct kvm_calibration {
    bool usable;      /* /dev/kvm opened and ran the probe guest */
    double loop_ns;   /* ns per iteration of a two-instruction guest loop */
    double exit_ns;   /* ns per port-I/O exit round trip to user space */
    char reason[256]; /* why KVM is or is not chosen, for the user */
};

/* Above this per-iteration cost, guest code runs slower under KVM than under TCG. */
#define HVMMIO_KVM_MAX_LOOP_NS 5.0

/* Run a tiny real-mode guest under KVM and time it (well under a second). */
void hvmmio_kvm_calibrate(struct kvm_calibration *cal);

/*
 * Resolve "auto", "kvm" or "tcg" to "kvm" or "tcg", explaining the choice on stderr.
 * Returns NULL (with a message) for an unknown name or a forced but unusable KVM.
 */
const char *hvmmio_choose_accel(const char *wanted, bool quiet);

#endif
