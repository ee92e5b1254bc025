/*
 * Receiving through io_uring without a read per frame to ask for: one
 * multishot read (IORING_OP_READ_MULTISHOT, Linux 6.7) takes each frame the
 * device has into a buffer of its own from a ring of provided buffers
 * (IORING_REGISTER_PBUF_RING, 5.19), and stays armed for the next ones.
 *
 * The ring defers its work to us (IORING_SETUP_DEFER_TASKRUN, 6.1): a frame
 * arriving only queues the read, which runs when uring_rx_run() enters the
 * ring, on this thread, never interrupting it. A wake-up then costs one
 * io_uring_enter() that reads every frame waiting, and no read that finds
 * the device empty (uring.h's rounds of reads took two or three system
 * calls, and a read per frame asked for whether it came or not).
 *
 * The caller still polls the device's own fd (level-triggered): a frame
 * left waiting keeps it readable, so none is forgotten. Where any of the
 * three features is missing, uring_rx_open() returns NULL and the caller
 * reads as before; when the ring fails later, uring_rx_run() says so after
 * handing over every frame it read, and the caller goes on without it.
 */
#ifndef EUK_URING_RX_H
#define EUK_URING_RX_H

#include "uring.h"

/* Headers with deferred work (6.1) also have provided-buffer rings (5.19). */
#if defined(EUK_HAVE_URING) && defined(IORING_SETUP_DEFER_TASKRUN)
#define EUK_HAVE_URING_RX 1
#endif

#include <stddef.h>
#include <stdint.h>

/* Buffers in the ring, and so the most frames one uring_rx_run() hands over. */
#define URING_RX_BUFFERS 64

/* One frame read: `length` bytes at `frame`, valid until the callback returns. */
typedef void uring_rx_take(void *context, const uint8_t *frame, size_t length);

typedef struct uring_rx {
  uring *ring;
  int fd;                              /* the device read */
  size_t size;                         /* each buffer's bytes: frames this long or longer may have been cut, and are dropped */
  int cut;                             /* a frame was dropped so: the caller should read without this ring from now on */
  uint8_t *memory;                     /* URING_RX_BUFFERS buffers of `size` bytes */
#ifdef EUK_HAVE_URING_RX
  struct io_uring_buf_ring *buffers;   /* their descriptors, shared with the kernel */
#endif
  int armed;                           /* the multishot read is in place */
} uring_rx;

#ifdef EUK_HAVE_URING_RX

/* The multishot read's opcode (not in the uapi headers of kernels before 6.7). */
#define URING_RX_READ_MULTISHOT 49
#define URING_RX_GROUP 0               /* the buffer group the read takes from */
#define URING_RX_READ 1                /* user_data of the read */
#define URING_RX_CANCEL 2              /* user_data of its cancellation */

/* Whether the kernel knows io_uring operation `opcode` (IORING_REGISTER_PROBE). */
static int uring_rx_supports(const uring *r, unsigned opcode) {
  const unsigned ops = 256;
  struct io_uring_probe *probe = calloc(1, sizeof *probe + ops * sizeof probe->ops[0]);
  if (probe == NULL) return 0;
  int known = syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PROBE, probe, ops) == 0 &&
      opcode <= probe->last_op && (probe->ops[opcode].flags & IO_URING_OP_SUPPORTED);
  free(probe);
  return known;
}

/* Gives buffer `id` back to the kernel: it will take it again from the tail of the ring (published by uring_rx_publish). */
static void uring_rx_give(uring_rx *rx, unsigned id, unsigned short *tail) {
  struct io_uring_buf *b = &rx->buffers->bufs[*tail & (URING_RX_BUFFERS - 1)];
  b->addr = (unsigned long)(rx->memory + (size_t)id * rx->size);
  b->len = (unsigned)rx->size;
  b->bid = (unsigned short)id;
  (*tail)++;
}

/* Publishes the buffers given back up to `tail`. */
static void uring_rx_publish(uring_rx *rx, unsigned short tail) {
  __atomic_store_n(&rx->buffers->tail, tail, __ATOMIC_RELEASE);
}

/*
 * Queues one entry (opcode, user_data, addr) on the ring and enters it to
 * submit it and run what is waiting. Returns 0, or the errno of
 * io_uring_enter() (EINTR, EAGAIN and EBUSY are retried, URING_ATTEMPTS
 * times in all; EBUSY if the entry was still not taken).
 */
static int uring_rx_enter(uring_rx *rx, int queue, unsigned char opcode, unsigned long long user_data, unsigned long long addr) {
  uring *r = rx->ring;
  unsigned tail = *r->sq_tail;
  if (queue) {
    unsigned index = tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = opcode;
    sqe->user_data = user_data;
    sqe->addr = addr;
    if (opcode == URING_RX_READ_MULTISHOT) {
      sqe->fd = r->registered == rx->fd ? 0 : rx->fd;
      sqe->flags = IOSQE_BUFFER_SELECT | (r->registered == rx->fd ? IOSQE_FIXED_FILE : 0);
      sqe->buf_group = URING_RX_GROUP;
      sqe->off = (unsigned long long)-1;
    } else {
      sqe->fd = -1;
    }
    r->sq_array[index] = index;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  }
  int err = EBUSY;
  for (int attempt = 0; attempt < URING_ATTEMPTS; attempt++) {
    unsigned unsubmitted = *r->sq_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (syscall(__NR_io_uring_enter, r->fd, unsubmitted, 0, IORING_ENTER_GETEVENTS, NULL, 0) >= 0) {
      if (__atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) == *r->sq_tail) return 0;
    } else if (errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      err = errno;
      break;
    }
  }
  /* What the kernel did not take is taken back. */
  __atomic_store_n(r->sq_tail, __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
  return err;
}

/*
 * Hands every completion waiting to `take` (frames) and notes the end of
 * the read; returns 0, or the errno with which the read ended (ENOBUFS,
 * when every buffer was taken, is not one: the next run arms it again).
 * `*ended`: the read's end was seen.
 */
static int uring_rx_reap(uring_rx *rx, uring_rx_take *take, void *context, int *ended) {
  uring *r = rx->ring;
  unsigned head = *r->cq_head, end = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  unsigned short tail = rx->buffers->tail;
  int err = 0;
  for (; head != end; head++) {
    const struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
    if (cqe->user_data != URING_RX_READ) continue;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
      const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
      if (cqe->res > 0 && (size_t)cqe->res < rx->size) take(context, rx->memory + (size_t)id * rx->size, (size_t)cqe->res);
      else if (cqe->res > 0) rx->cut = 1;
      uring_rx_give(rx, id, &tail);
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      rx->armed = 0;
      *ended = 1;
      if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -EAGAIN && cqe->res != -EINTR && cqe->res != -ECANCELED) err = -cqe->res;
    }
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  uring_rx_publish(rx, tail);
  return err;
}

/*
 * Reads what `fd` has through the multishot read (arming it first if it is
 * not in place), up to URING_RX_BUFFERS frames, each handed to `take` in
 * order. Returns 0, or the errno with which reading the device failed;
 * `*ring_failed`: the errno with which the ring itself failed (every frame
 * read was handed over first), after which the caller closes it.
 */
static int uring_rx_run(uring_rx *rx, uring_rx_take *take, void *context, int *ring_failed) {
  int ended = 0;
  *ring_failed = uring_rx_enter(rx, !rx->armed, URING_RX_READ_MULTISHOT, URING_RX_READ, 0);
  if (*ring_failed == 0) rx->armed = 1;
  return uring_rx_reap(rx, take, context, &ended);
}

static void uring_rx_drop(void *context, const uint8_t *frame, size_t length) {
  (void)context;
  (void)frame;
  (void)length;
}

/*
 * Closes the receive ring. The read is cancelled first, and the buffers
 * freed only once its end is seen: a read still armed could otherwise
 * write into memory given back to malloc (if its end cannot be seen, the
 * buffers are left allocated).
 */
static void uring_rx_close(uring_rx *rx) {
  if (rx == NULL) return;
  int ended = !rx->armed;
  for (int attempt = 0; !ended && attempt < URING_ATTEMPTS; attempt++) {
    if (uring_rx_enter(rx, attempt == 0, IORING_OP_ASYNC_CANCEL, URING_RX_CANCEL, URING_RX_READ) != 0) break;
    uring_rx_reap(rx, uring_rx_drop, NULL, &ended);
  }
  uring_close(rx->ring);
  if (rx->buffers) munmap(rx->buffers, URING_RX_BUFFERS * sizeof(struct io_uring_buf));
  if (ended) free(rx->memory);
  free(rx);
}

/*
 * A receive ring reading `fd` into buffers of `size` bytes, or NULL where
 * the kernel lacks deferred work, provided-buffer rings or multishot reads
 * (or refuses io_uring). The read is armed by the first uring_rx_run().
 */
static uring_rx *uring_rx_open(int fd, size_t size) {
  uring_rx *rx = calloc(1, sizeof *rx);
  if (rx == NULL) return NULL;
  rx->fd = fd;
  rx->size = size;
  rx->ring = uring_open_with(URING_RX_BUFFERS, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
  rx->memory = malloc(URING_RX_BUFFERS * size);
  void *buffers = mmap(NULL, URING_RX_BUFFERS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  rx->buffers = buffers == MAP_FAILED ? NULL : buffers;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)rx->buffers;
  reg.ring_entries = URING_RX_BUFFERS;
  reg.bgid = URING_RX_GROUP;
  if (rx->ring == NULL || rx->memory == NULL || rx->buffers == NULL || !uring_rx_supports(rx->ring, URING_RX_READ_MULTISHOT) ||
      syscall(__NR_io_uring_register, rx->ring->fd, IORING_REGISTER_PBUF_RING, &reg, 1) != 0) {
    uring_rx_close(rx);
    return NULL;
  }
  unsigned short tail = 0;
  for (unsigned id = 0; id < URING_RX_BUFFERS; id++) uring_rx_give(rx, id, &tail);
  uring_rx_publish(rx, tail);
  uring_register(rx->ring, fd);
  return rx;
}

#else

static uring_rx *uring_rx_open(int fd, size_t size) { (void)fd; (void)size; return NULL; }
static void uring_rx_close(uring_rx *rx) { (void)rx; }
static int uring_rx_run(uring_rx *rx, uring_rx_take *take, void *context, int *ring_failed) {
  (void)rx; (void)take; (void)context;
  *ring_failed = ENOSYS;
  return 0;
}

#endif
#endif
