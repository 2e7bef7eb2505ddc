/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio: KVM calibration. On nested or otherwise slow hosts /dev/kvm works but guest code
 * runs hundreds of times slower than native, and TCG is the better choice. A short probe
 * guest (16-bit real mode, no firmware) measures a tight loop and port-I/O exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"

#define PROBE_MEM_SIZE 0x10000
#define PROBE_CODE_ADDR 0x1000
#define PROBE_LOOPS 100000u
#define PROBE_EXITS 200u
#define PORT_LOOP_DONE 0x10
#define PORT_EXIT 0x11

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t put_mov_ecx(uint8_t *p, uint32_t v)
{
    p[0] = 0x66; /* operand size: 32 bits in real mode */
    p[1] = 0xb9; /* mov ecx, imm32 */
    memcpy(p + 2, &v, 4);
    return 6;
}

/* The probe: a dec/jnz loop, an OUT to signal its end, PROBE_EXITS OUTs, HLT. */
static size_t build_probe(uint8_t *code)
{
    size_t n = 0;
    n += put_mov_ecx(code + n, PROBE_LOOPS);
    static const uint8_t loop[] = {0x66, 0x49, 0x75, 0xfc, 0xe6, PORT_LOOP_DONE};
    memcpy(code + n, loop, sizeof(loop));
    n += sizeof(loop);
    n += put_mov_ecx(code + n, PROBE_EXITS);
    static const uint8_t exits[] = {0xe6, PORT_EXIT, 0x66, 0x49, 0x75, 0xfa, 0xf4};
    memcpy(code + n, exits, sizeof(exits));
    return n + sizeof(exits);
}

static int run_probe(int vm, struct kvm_calibration *cal)
{
    uint8_t *mem = mmap(NULL, PROBE_MEM_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        return -1;
    }
    build_probe(mem + PROBE_CODE_ADDR);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = PROBE_MEM_SIZE,
        .userspace_addr = (uintptr_t)mem,
    };
    int ret = -1, vcpu = -1;
    struct kvm_run *run = MAP_FAILED;
    int kvm = -1;
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        goto out;
    }
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int run_size = kvm < 0 ? -1 : ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vcpu < 0 || run_size <= 0) {
        goto out;
    }
    run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) {
        goto out;
    }
    struct kvm_sregs sregs;
    struct kvm_regs regs = {.rip = PROBE_CODE_ADDR, .rflags = 0x2};
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
        goto out;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
        goto out;
    }
    uint64_t t0 = now_ns(), t_loop = 0;
    unsigned exits = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto out;
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_LOOP_DONE) {
            t_loop = now_ns();
        } else if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_EXIT) {
            exits++;
        } else if (run->exit_reason == KVM_EXIT_HLT) {
            break;
        } else {
            goto out;
        }
    }
    uint64_t t_end = now_ns();
    if (!t_loop || exits != PROBE_EXITS) {
        goto out;
    }
    cal->loop_ns = (double)(t_loop - t0) / PROBE_LOOPS;
    cal->exit_ns = (double)(t_end - t_loop) / PROBE_EXITS;
    ret = 0;
out:
    if (run != MAP_FAILED) {
        munmap(run, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
    }
    if (kvm >= 0) {
        close(kvm);
    }
    if (vcpu >= 0) {
        close(vcpu);
    }
    munmap(mem, PROBE_MEM_SIZE);
    return ret;
}

void hvmmio_kvm_calibrate(struct kvm_calibration *cal)
{
    memset(cal, 0, sizeof(*cal));
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        snprintf(cal->reason, sizeof(cal->reason), "/dev/kvm: %s", strerror(errno));
        return;
    }
    int vm = -1;
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
        (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
        snprintf(cal->reason, sizeof(cal->reason), "/dev/kvm cannot create a VM: %s",
                 strerror(errno));
        close(kvm);
        return;
    }
    if (run_probe(vm, cal) < 0) {
        snprintf(cal->reason, sizeof(cal->reason), "the KVM probe guest did not run: %s",
                 strerror(errno));
    } else {
        cal->usable = true;
        snprintf(cal->reason, sizeof(cal->reason),
                 "KVM probe: %.1f ns per loop iteration (fast is < %.0f ns), %.1f us per exit",
                 cal->loop_ns, HVMMIO_KVM_MAX_LOOP_NS, cal->exit_ns / 1000.0);
    }
    close(vm);
    close(kvm);
}

const char *hvmmio_choose_accel(const char *wanted, bool quiet)
{
    if (!strcmp(wanted, "tcg")) {
        if (!quiet) {
            fprintf(stderr, "hvmmio: accelerator tcg (forced with --accel)\n");
        }
        return "tcg";
    }
    if (strcmp(wanted, "kvm") && strcmp(wanted, "auto")) {
        fprintf(stderr, "hvmmio: unknown accelerator '%s' (use auto, kvm or tcg)\n", wanted);
        return NULL;
    }
    struct kvm_calibration cal;
    hvmmio_kvm_calibrate(&cal);
    if (!strcmp(wanted, "kvm")) {
        if (!cal.usable) {
            fprintf(stderr, "hvmmio: --accel kvm: KVM is not usable: %s\n", cal.reason);
            return NULL;
        }
        if (!quiet) {
            fprintf(stderr, "hvmmio: accelerator kvm (forced with --accel; %s)\n", cal.reason);
        }
        return "kvm";
    }
    bool fast = cal.usable && cal.loop_ns <= HVMMIO_KVM_MAX_LOOP_NS;
    if (!quiet) {
        fprintf(stderr, "hvmmio: accelerator %s (%s%s)\n", fast ? "kvm" : "tcg", cal.reason,
                cal.usable && !fast ? ": KVM is too slow here, using TCG" : "");
    }
    return fast ? "kvm" : "tcg";
}
