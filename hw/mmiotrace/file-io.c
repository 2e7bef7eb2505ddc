/*
 * hvmmio: a trace file's I/O thread, which makes its direct writes (mmiotrace-direct=on).
 *
 * A direct write returns only once the disk has the data. Made by the writer, it would
 * stop the formatting meanwhile; so the writer hands each buffer of whole blocks to this
 * thread and formats into its other buffer (file-out.c). One write is in flight at a
 * time: the writer waits for it before it hands over the next one, and whenever the file
 * must be complete (a flush, a rotation, the end). The thread is made at the file's
 * first direct write and sleeps while the disk works: it takes next to no CPU time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "file-int.h"

static void *io_thread(void *opaque)
{
    MmioTraceFile *f = opaque;

    mmiotrace_thread_set_batch();   /* woken, it must not preempt a vCPU either */
    qemu_mutex_lock(&f->io_lock);
    for (;;) {
        while (!f->io_busy && !f->io_quit) {
            qemu_cond_wait(&f->io_cond, &f->io_lock);
        }
        if (!f->io_busy) {
            break;
        }
        const char *p = f->io_buf;
        size_t len = f->io_len, done = 0;
        off_t off = f->io_off;
        int fd = f->io_fd, err = 0;

        qemu_mutex_unlock(&f->io_lock);
        while (done < len) {
            ssize_t n = pwrite(fd, p + done, len - done, off + done);

            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                err = n < 0 ? errno : EIO;
                break;
            }
            done += n;
        }
        qemu_mutex_lock(&f->io_lock);
        f->io_done = done;
        f->io_err = err;
        f->io_busy = false;
        qemu_cond_broadcast(&f->io_cond);
    }
    mmiotrace_thread_cpu_ns(f->io_cpu_ns);
    qemu_mutex_unlock(&f->io_lock);
    return NULL;
}

/*
 * Writer: write buf[0, len) at off to fd in the I/O thread. No write may be in flight
 * (mmiotrace_io_wait first); buf stays the thread's until it is done.
 */
void mmiotrace_io_submit(MmioTraceFile *f, int fd, char *buf, size_t len, off_t off)
{
    if (!f->io_started) {
        qemu_mutex_init(&f->io_lock);
        qemu_cond_init(&f->io_cond);
        f->io_started = true;
        qemu_thread_create(&f->io_thread, "mmiotrace-io", io_thread, f,
                           QEMU_THREAD_JOINABLE);
    }
    qemu_mutex_lock(&f->io_lock);
    assert(!f->io_busy);
    f->io_fd = fd;
    f->io_buf = buf;
    f->io_len = len;
    f->io_off = off;
    f->io_busy = true;
    qemu_cond_signal(&f->io_cond);
    qemu_mutex_unlock(&f->io_lock);
}

/*
 * Writer: wait for the write in flight (there must be one). Returns 0 once all of it is
 * in the file, else its errno, with *done the bytes that were written.
 */
int mmiotrace_io_wait(MmioTraceFile *f, size_t *done)
{
    int err;

    qemu_mutex_lock(&f->io_lock);
    while (f->io_busy) {
        qemu_cond_wait(&f->io_cond, &f->io_lock);
    }
    *done = f->io_done;
    err = f->io_err;
    qemu_mutex_unlock(&f->io_lock);
    return err;
}

/* At the file's end, with no write in flight: stop the thread. */
void mmiotrace_io_stop(MmioTraceFile *f)
{
    if (!f->io_started) {
        return;
    }
    qemu_mutex_lock(&f->io_lock);
    f->io_quit = true;
    qemu_cond_signal(&f->io_cond);
    qemu_mutex_unlock(&f->io_lock);
    qemu_thread_join(&f->io_thread);
    qemu_cond_destroy(&f->io_cond);
    qemu_mutex_destroy(&f->io_lock);
    f->io_started = false;
}
