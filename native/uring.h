/*
 * Reads and writes in batches through io_uring: one system call for many
 * readv()s or writev()s.
 *
 * Each system call has a fixed cost (about 1.1 µs on the paravirtualized
 * machines this project is measured on, against ~0.3 µs for the kernel's
 * whole handling of a dropped 1514-byte TAP frame), so a stack writing one
 * frame per write() spends much of its time entering and leaving the
 * kernel. uring_writev() hands the kernel a batch of writes, linked so that
 * they run in order and the first that fails cancels the rest (what a loop
 * of writev() calls stopping at the first error would do), and waits for
 * all of them in the same call. A TAP is always writable, so the kernel runs
 * each write at once in that call, on this thread, as writev() would.
 *
 * Raw system calls and the uapi header only: no liburing. Where io_uring is
 * missing or refused (an old kernel, a seccomp filter, kernel.io_uring_disabled),
 * uring_open() returns NULL and the caller writes frame by frame; if a ring
 * fails later (io_uring_enter() itself), uring_run() returns its errno with
 * what did and did not run, and the caller goes on so without it.
 */
#ifndef EUK_URING_H
#define EUK_URING_H

#if defined(__linux__) && __has_include(<linux/io_uring.h>)
#define EUK_HAVE_URING 1
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* The most reads or writes one call takes. */
#define URING_BATCH 128

/* One read or write: a frame scattered to or gathered from up to two parts. */
typedef struct uring_io {
  struct iovec parts[2];
  int count;
} uring_io;

typedef struct uring {
  int fd;
  int registered;                      /* the file registered with the ring (uring_register), or -1 */
#ifdef EUK_HAVE_URING
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *sq_map, *cq_map;
  size_t sq_size, cq_size, sqes_size;
#endif
} uring;

#ifdef EUK_HAVE_URING

static void uring_close(uring *r) {
  if (r == NULL) return;
  if (r->sqes) munmap(r->sqes, r->sqes_size);
  if (r->cq_map && r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_size);
  if (r->sq_map) munmap(r->sq_map, r->sq_size);
  close(r->fd);
  free(r);
}

/* A ring of `entries` set up with `flags` (IORING_SETUP_*), or NULL where io_uring is unavailable or refuses them. */
static uring *uring_open_with(unsigned entries, unsigned flags) {
  uring *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = flags;
  r->registered = -1;
  r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (r->fd < 0) {
    free(r);
    return NULL;
  }
  r->sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (p.features & IORING_FEAT_SINGLE_MMAP) r->sq_size = r->cq_size = r->sq_size > r->cq_size ? r->sq_size : r->cq_size;
  r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
  r->sq_map = mmap(NULL, r->sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (r->sq_map == MAP_FAILED) r->sq_map = NULL;
  r->cq_map = !r->sq_map ? NULL
      : (p.features & IORING_FEAT_SINGLE_MMAP) ? r->sq_map
      : mmap(NULL, r->cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
  if (r->cq_map == MAP_FAILED) r->cq_map = NULL;
  r->sqes = !r->cq_map ? NULL : mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) r->sqes = NULL;
  if (r->sqes == NULL) {
    uring_close(r);
    return NULL;
  }
  char *sq = r->sq_map, *cq = r->cq_map;
  r->sq_head = (unsigned *)(sq + p.sq_off.head);
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  return r;
}

/* A ring for batches of up to URING_BATCH reads or writes, or NULL where io_uring is unavailable. */
static uring *uring_open(void) { return uring_open_with(URING_BATCH, 0); }

/* The bytes `w` moves when whole. */
static size_t uring_length(const uring_io *w) {
  size_t n = 0;
  for (int i = 0; i < w->count; i++) n += w->parts[i].iov_len;
  return n;
}

/* A result of uring_run() for an entry that did not run, or whose end was not seen, when the ring failed. */
#define URING_NOT_RUN INT_MIN

/* How many times io_uring_enter() may fail for good in one uring_run() before the ring is given up. */
#define URING_ATTEMPTS 4

/*
 * Runs io[0..count) (count <= URING_BATCH) on `fd`, readv()s or writev()s
 * as `opcode` says (read()s or write()s for those of one part), in order,
 * without waiting for the device (RWF_NOWAIT), in one system call when
 * nothing interrupts it; `linked`: one that fails cancels the ones after it.
 * results[i] is what io[i]'s call would have returned (a byte count or
 * -errno). Returns 0; or, when io_uring_enter() itself fails (not EINTR,
 * EAGAIN or EBUSY) and keeps failing, its errno: the ring is then broken.
 * The entries it did not take are taken back and, like those whose end
 * could not be collected, get URING_NOT_RUN; the others' results are set
 * (a read that ran has consumed its frame). The caller should close the
 * ring and go on without it.
 */
static int uring_run(uring *r, int fd, unsigned char opcode, const uring_io *io, unsigned count, int linked, int *results) {
  unsigned tail = *r->sq_tail;
  const int fixed = fd == r->registered; /* named by its index in the ring's registered files */
  for (unsigned i = 0; i < count; i++) {
    unsigned index = (tail + i) & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->fd = fixed ? 0 : fd;
    if (io[i].count == 1) {
      /* One part: a plain read or write, which spares the kernel importing an iovec (~3% of a receive's CPU). */
      sqe->opcode = opcode == IORING_OP_READV ? IORING_OP_READ : IORING_OP_WRITE;
      sqe->addr = (unsigned long)io[i].parts[0].iov_base;
      sqe->len = (unsigned)io[i].parts[0].iov_len;
    } else {
      sqe->opcode = opcode;
      sqe->addr = (unsigned long)io[i].parts;
      sqe->len = (unsigned)io[i].count;
    }
    sqe->off = (unsigned long long)-1; /* the file's own position: none for a TAP */
    sqe->flags = (linked && i + 1 < count ? IOSQE_IO_LINK : 0) | (fixed ? IOSQE_FIXED_FILE : 0);
    sqe->rw_flags = RWF_NOWAIT; /* never wait for room or a frame: EAGAIN, as O_NONBLOCK gives read() */
    sqe->user_data = i;
    r->sq_array[index] = index;
    results[i] = URING_NOT_RUN;
  }
  __atomic_store_n(r->sq_tail, tail + count, __ATOMIC_RELEASE);
  unsigned reaped = 0, taken = count; /* taken: the entries the kernel took or may still take */
  int failures = 0, err = 0;
  while (reaped < taken) {
    unsigned unsubmitted = tail + taken - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    long entered = syscall(__NR_io_uring_enter, r->fd, unsubmitted, taken - reaped, IORING_ENTER_GETEVENTS, NULL, 0);
    if (entered < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      /* The ring failed: the entries not taken are taken back; what was taken is collected below. */
      err = errno;
      unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
      taken = head - tail;
      __atomic_store_n(r->sq_tail, head, __ATOMIC_RELEASE);
    }
    /* Completions may come in any order: each says which entry it ends. */
    unsigned head = *r->cq_head, end = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    for (; head != end; head++, reaped++) {
      const struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
      results[cqe->user_data] = cqe->res;
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
    if (err != 0 && reaped < taken && ++failures >= URING_ATTEMPTS) break;
  }
  return err;
}

/*
 * Whether `fd` can be used through `r`: reads and writes of one part and of
 * two (the ring's plain and vectored operations) that fail with EAGAIN
 * instead of waiting (RWF_NOWAIT, which the file must support, else the
 * ring's call would block the thread). Probed with empty reads, which take
 * no frame.
 */
static int uring_usable(uring *r, int fd) {
  uring_io empty[2] = {{{{NULL, 0}, {NULL, 0}}, 1}, {{{NULL, 0}, {NULL, 0}}, 2}};
  int results[2];
  return uring_run(r, fd, IORING_OP_READV, empty, 2, 0, results) == 0 && results[0] == 0 && results[1] == 0;
}

/*
 * Registers `fd` with the ring (best effort): its reads and writes then
 * name it by index, and the kernel does not look the file up and release
 * it for each (fget/fput were ~1.5% of a receive's CPU). The ring holds
 * the file open until it is closed.
 */
static void uring_register(uring *r, int fd) {
  if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_FILES, &fd, 1) == 0) r->registered = fd;
}

/*
 * Runs reads[0..count) on `fd`, in order: results[i] is what reads[i]'s
 * readv() would have returned (-EAGAIN once the device is empty). Returns
 * 0, or the errno with which the ring failed (see uring_run: results[i] is
 * then URING_NOT_RUN for the reads that did not run).
 */
static int uring_readv(uring *r, int fd, const uring_io *reads, unsigned count, int *results) {
  return uring_run(r, fd, IORING_OP_READV, reads, count, 0, results);
}

/*
 * Runs writes[0..count) on `fd` in order, linked. Returns how many went out,
 * in order (count when all did); *err is the errno of the one after them
 * that failed (the ones after it were not written either), or 0. When the
 * ring itself failed, *ring_failed is set to its errno, and the write after
 * the ones returned may not have run (*err 0): whoever writes from there
 * on without the ring may send one that went out but whose end was not
 * seen a second time.
 */
static unsigned uring_writev(uring *r, int fd, const uring_io *writes, unsigned count, int *err, int *ring_failed) {
  int results[URING_BATCH];
  *ring_failed = uring_run(r, fd, IORING_OP_WRITEV, writes, count, 1, results);
  *err = 0;
  for (unsigned i = 0; i < count; i++) {
    if (results[i] == URING_NOT_RUN) return i;
    /* A short write (never seen on a TAP) breaks the chain like an error: the frame went out cut. */
    *err = results[i] < 0 ? -results[i] : (size_t)results[i] < uring_length(&writes[i]) ? EIO : 0;
    if (*err != 0) return i;
  }
  return count;
}

#else

static void uring_close(uring *r) { (void)r; }
static uring *uring_open(void) { return NULL; }
static int uring_usable(uring *r, int fd) { (void)r; (void)fd; return 0; }
static void uring_register(uring *r, int fd) { (void)r; (void)fd; }
static unsigned uring_writev(uring *r, int fd, const uring_io *writes, unsigned count, int *err, int *ring_failed) {
  (void)r; (void)fd; (void)writes; (void)count;
  *err = 0;
  *ring_failed = ENOSYS;
  return 0;
}
static int uring_readv(uring *r, int fd, const uring_io *reads, unsigned count, int *results) {
  (void)r; (void)fd; (void)reads; (void)count; (void)results;
  return ENOSYS;
}

#endif
#endif
