/*
 * A test seam for native/uring.h and uring_rx.h, included before them
 * (`cc -include`): io_uring_setup() and io_uring_enter() go through
 * stand-ins that fail as the environment variable EUK_TEST_URING_FAIL says.
 *
 * The variable is a comma-separated list with one item per ring, in the
 * order the rings are set up (a TAP opened with a ring sets up its ring
 * of writes and plain reads first, then its receive ring); the last item
 * serves the rings after it. It is read at each io_uring_setup(), and
 * when it has changed since, its list starts again from its first item
 * (so a test sets it just before opening a device). Each ring counts its
 * own calls of io_uring_enter(); an item says:
 *
 * - "-": that ring's calls all go through;
 * - "refuse": setting up that ring fails with ENOSYS, as where the kernel
 *   lacks what it asks for;
 * - "N" or "N:how": its first N calls run; then, by `how`:
 *   - (none) "partial": call N+1 submits one entry only (running what it
 *     waits for, as the real call would), then reports EFAULT, as every
 *     call after it does (a ring that broke mid-batch);
 *   - "nothing": every call from N+1 on fails with EFAULT, taking nothing;
 *   - "eintr": call N+1 fails with EINTR, taking nothing; the rest run.
 *
 * Other system calls, and every call without the variable, go through.
 */
#ifndef EUK_FAILING_URING_H
#define EUK_FAILING_URING_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EUK_FAILING_RINGS 16 /* rings followed at once */

/* One ring's item of the variable, and its calls so far. */
typedef struct euk_failing_ring {
  long fd, calls, after;
  char how[16];
} euk_failing_ring;

/* Sets `ring` up from the next item of `spec` (at *position); whether the ring's setup is to be refused. */
static int euk_failing_parse(const char *spec, size_t *position, euk_failing_ring *ring) {
  const char *item = spec + *position;
  size_t length = strcspn(item, ",");
  if (item[length] == ',') *position += length + 1; /* else the last item serves the rings after it */
  char text[32] = {0};
  memcpy(text, item, length < sizeof text - 1 ? length : sizeof text - 1);
  ring->calls = 0;
  ring->after = LONG_MAX;
  memset(ring->how, 0, sizeof ring->how);
  if (!strcmp(text, "refuse")) return 1;
  if (!strcmp(text, "-") || !text[0]) return 0;
  char *rest = NULL;
  ring->after = strtol(text, &rest, 10);
  if (rest != NULL && *rest == ':') strncpy(ring->how, rest + 1, sizeof ring->how - 1);
  return 0;
}

static long euk_failing_syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  static euk_failing_ring rings[EUK_FAILING_RINGS];
  static unsigned next_ring = 0;
  static char last_spec[256];
  static size_t position = 0;
  const char *spec = getenv("EUK_TEST_URING_FAIL");
  if (spec == NULL || !*spec) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (number == __NR_io_uring_setup) {
    if (strncmp(spec, last_spec, sizeof last_spec)) {
      strncpy(last_spec, spec, sizeof last_spec - 1);
      position = 0;
    }
    euk_failing_ring *ring = &rings[next_ring++ % EUK_FAILING_RINGS];
    if (euk_failing_parse(spec, &position, ring)) {
      ring->fd = -1;
      errno = ENOSYS;
      return -1;
    }
    ring->fd = syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    return ring->fd;
  }
  if (number != __NR_io_uring_enter) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  euk_failing_ring *ring = NULL;
  for (unsigned i = 0; i < EUK_FAILING_RINGS && i < next_ring; i++) {
    euk_failing_ring *candidate = &rings[(next_ring - 1 - i) % EUK_FAILING_RINGS]; /* the newest ring with this fd */
    if (candidate->fd == a[0]) {
      ring = candidate;
      break;
    }
  }
  if (ring == NULL) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  long call = ++ring->calls;
  if (call <= ring->after || (!strcmp(ring->how, "eintr") && call > ring->after + 1)) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (!strcmp(ring->how, "eintr")) {
    errno = EINTR;
    return -1;
  }
  if (!ring->how[0] && call == ring->after + 1 && (unsigned)a[1] > 0) /* to_submit: an unsigned int, the register's low half */
    syscall(number, a[0], 1L, 0L, a[3], a[4], a[5]);
  errno = EFAULT;
  return -1;
}

#define syscall euk_failing_syscall

#endif
