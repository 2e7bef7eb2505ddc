/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fault for the faults suite, preloaded into QEMU (LD_PRELOAD): a file system that lets a
 * file be opened with O_DIRECT but refuses every direct write with EINVAL (as one whose
 * blocks are larger than the writer's alignment would). Each refused write appends a line
 * naming the calling thread to the file named by $DIRECT_EINVAL_LOG, so the test knows
 * the fault was met, and where.
 */
/* both pwrite and pwrite64 are defined here: not one as the other's alias */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

static int refuse(int fd, const char *call)
{
    int flags = fcntl(fd, F_GETFL);
    const char *log = getenv("DIRECT_EINVAL_LOG");

    if (flags < 0 || !(flags & O_DIRECT)) {
        return 0;
    }
    if (log) {
        int lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (lfd >= 0) {
            char line[96], comm[17] = "";
            prctl(PR_GET_NAME, comm);
            int n = snprintf(line, sizeof(line), "refused %s on fd %d in %s\n", call, fd, comm);
            ssize_t unused = write(lfd, line, n);
            (void)unused;
            close(lfd);
        }
    }
    errno = EINVAL;
    return 1;
}

#define NEXT(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (refuse(fd, "pwrite")) {
        return -1;
    }
    return NEXT("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    if (refuse(fd, "pwrite64")) {
        return -1;
    }
    return NEXT("pwrite64", ssize_t(*)(int, const void *, size_t, off64_t))(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    if (refuse(fd, "write")) {
        return -1;
    }
    return NEXT("write", ssize_t(*)(int, const void *, size_t))(fd, buf, len);
}
