/*
 * A test seam for native/uring.h, included before it (`cc -include`): every
 * io_uring_enter() goes through a stand-in that fails as the environment
 * variable EUK_TEST_URING_FAIL says ("N" or "N:how"): the first N calls run;
 * then, by `how`:
 *
 * - (none) "partial": call N+1 submits one entry only, then reports EFAULT,
 *   as every call after it does (a ring that broke mid-batch);
 * - "nothing": every call from N+1 on fails with EFAULT, taking nothing;
 * - "eintr": call N+1 fails with EINTR, taking nothing; the rest run.
 *
 * Calls are counted from the last io_uring_setup(), which reads the
 * variable anew (so a test can break two devices' rings, one after the
 * other, in different ways). Other system calls, and every call without
 * the variable, go through.
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

static long euk_failing_syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  static long calls = 0, after = LONG_MAX;
  static char how[16];
  if (number == __NR_io_uring_setup) {
    const char *spec = getenv("EUK_TEST_URING_FAIL");
    char *rest = NULL;
    calls = 0;
    after = spec != NULL && *spec ? strtol(spec, &rest, 10) : LONG_MAX;
    memset(how, 0, sizeof how);
    if (rest != NULL && *rest == ':') strncpy(how, rest + 1, sizeof how - 1);
  }
  if (number != __NR_io_uring_enter) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  long call = ++calls;
  if (call <= after || (!strcmp(how, "eintr") && call > after + 1)) return syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (!strcmp(how, "eintr")) {
    errno = EINTR;
    return -1;
  }
  if (!how[0] && call == after + 1 && (unsigned)a[1] > 0) /* to_submit: an unsigned int, the register's low half */
    syscall(number, a[0], 1L, 0L, a[3], a[4], a[5]);
  errno = EFAULT;
  return -1;
}

#define syscall euk_failing_syscall

#endif
