/*
 * tap.node: a small Node-API addon giving JavaScript raw Ethernet frame I/O
 * on a Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI) or an AF_PACKET
 * raw socket bound to an existing interface.
 *
 * Receive: a uv_poll_t watches the non-blocking fd; each wake-up drains up to
 * MAX_BATCH frames into the device's receive buffer (one ArrayBuffer, made
 * at start() and reused: the callback copies what it keeps, and no memory
 * is allocated per wake-up) and calls JavaScript once through
 * napi_make_callback with (data: ArrayBuffer, lengths: Uint32Array, errno),
 * lengths a view of one buffer of lengths, also made at start() and reused.
 * With a ring (uring.h; the default where the kernel allows io_uring) the
 * reads of a wake-up, and the writes of a write() call, go in batches of a
 * system call each rather than one per frame. If the ring itself fails, it
 * is closed and the device goes on with a system call per frame, keeping
 * the frames the ring read and writing those it did not. On a TAP without
 * the kernel's offload (frames no bigger than the MTU), where the kernel
 * has multishot reads (Linux 6.7), a second ring receives instead
 * (uring_rx.h): one read stays armed and a wake-up's one system call reads
 * every frame waiting; if that ring fails, the device reads as above.
 * Send: write(handle, frames, start) writes an array of Uint8Array frames in
 * one call and stops at the first error (EAGAIN: waitWritable(handle, cb)
 * calls back once when the fd can take more). pause/resume stop and restart
 * reading (backpressure). `errno` exports the Linux errno values it reports.
 *
 * Offload (the second argument of openTap and openPacket): true for the
 * kernel's, "software" for the addon's own, false (or absent) for none.
 * With the kernel's, frames carry virtio-net headers (IFF_VNET_HDR on a
 * TAP, which then announces checksum and TCPv4 segmentation offload as a
 * virtual NIC does; PACKET_VNET_HDR on a packet socket). The kernel completes the TCP and UDP checksums of the
 * frames we write and segments TCP frames bigger than the MTU; its own TCP
 * segments reach us merged (up to 64 KiB) with their checksums completed
 * here. Far fewer, bigger frames cross, and the stack sums none of them: a
 * received frame whose transport checksum is known good (completed here, or
 * checked by the kernel) has the top bit of its length set
 * (CHECKSUM_VERIFIED). With the addon's own ("software", for a device or
 * peer without offloads), the stack hands over the same frames, and write()
 * does in C what the kernel would: it completes their TCP and UDP checksums
 * and cuts TCP frames bigger than the MTU into MTU-sized segments, each
 * written on its own, so the device sees ordinary frames (as Linux's GSO
 * and software checksums do before a driver without offloads).
 *
 * Busy polling (busyPoll(handle, micros), off by default): after a
 * wake-up that read frames, the addon keeps checking the fd (poll() with
 * no wait) for `micros` more, and reads and delivers what comes, before it
 * lets the event loop sleep: frames that follow within that time skip the
 * sleep and the wake-up (on a virtual machine a halted CPU is woken by the
 * hypervisor), at the cost of that CPU time. As Linux's SO_BUSY_POLL.
 * The event loop gets its turn at least every BUSY_POLL_TURN_NS.
 *
 * Threaded NAPI (openTap's fifth argument): the TAP is opened with
 * IFF_NAPI and its NAPI poll is switched to a kernel thread of its own
 * (/sys/class/net/<name>/threaded). A frame we write is then only queued
 * by write(): the kernel's receive path for it (GRO, which merges
 * consecutive TCP segments, then IP and TCP) runs on that thread, on
 * another CPU, rather than on ours inside the system call. Where the
 * thread cannot be turned on, the TAP is opened again without IFF_NAPI
 * (which, with the poll on the writer's thread, would only add work).
 *
 * Lifetime: the native state is freed only when both the JS handle was
 * garbage collected and libuv has finished closing the poll handle, so a
 * close() from inside a callback, or twice, never touches freed memory.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <sys/uio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "uring_rx.h"

#define MAX_BATCH 64
#define CHECKSUM_VERIFIED 0x80000000u  /* flag in a frame's length: its TCP/UDP checksum is known good */
#define SLOT (14 + 65535 + 1)          /* largest frame accepted per read: a whole IPv4 packet */
#define RING_READS 16                  /* reads of SLOT bytes one round through the ring has room for, at least */
/*
 * The receive buffer: a batch (up to 256 KiB of frames), and room beside it
 * for RING_READS reads of a whole packet. With room for only one or four,
 * a wake-up's 45 frames of a TCP receive took 12 system calls (rounds of
 * reads) instead of 3, and bench/tcp received 10-20% slower.
 */
#define SCRATCH (256 * 1024 + RING_READS * SLOT)
#define RX_BUFFER (SCRATCH / URING_RX_BUFFERS) /* a multishot read's buffer: a wake-up's frames, one per buffer, fit SCRATCH */
_Static_assert(URING_RX_BUFFERS <= MAX_BATCH, "a multishot read's frames must fit one batch's lengths");
#define MAX_BUSY_POLL_US 1000          /* busyPoll's limit */
#define STRING_OF(x) #x
#define STRING(x) STRING_OF(x)         /* a macro's value as a string literal */
#define BUSY_POLL_TURN_NS 1000000L     /* the longest one wake-up keeps the event loop waiting while busy polling */
#define HEADER_ROOM (14 + 60 + 60)    /* a segment's Ethernet, IPv4 and TCP headers, or a virtio-net header */

enum kind { KIND_TAP = 0, KIND_PACKET = 1 };

/* Who segments our TCP frames and completes checksums (the second argument of openTap / openPacket). */
enum offload { OFFLOAD_NONE = 0, OFFLOAD_KERNEL = 1, OFFLOAD_SOFTWARE = 2 };

typedef struct device {
  int fd;
  enum kind kind;
  enum offload offload;                /* KERNEL: virtio-net headers (IFF_VNET_HDR / PACKET_VNET_HDR) */
  int mtu;                             /* TCP frames bigger than this (plus 14) are segmented */
  const uint8_t *resume_frame;         /* SOFTWARE: a frame cut short by EAGAIN, resumed ... */
  size_t resume_size;
  size_t resume_offset;                /* ... at this payload offset when written again */
  uv_poll_t *poll;
  napi_env env;
  napi_ref resource;                   /* receiver + async resource object */
  napi_async_context async_context;
  napi_ref on_frames;                  /* set by start() */
  napi_ref on_writable;                /* set by waitWritable(), one-shot */
  int reading;                         /* started and not paused */
  int closing;
  int js_alive;                        /* the JS external still exists */
  uint8_t *scratch;                    /* the data of `scratch_buffer` */
  napi_ref scratch_buffer;             /* the receive ArrayBuffer, from start() */
  napi_ref lengths_buffer;             /* MAX_BATCH lengths, made at start(): each wake-up's lengths are a view of it */
  uint32_t *lengths;                   /* the data of `lengths_buffer`, where a wake-up's reads note each frame's length */
  /* Writes gathered for one uring_writev() (with a ring), or the one being written (without). */
  uring *ring;                         /* NULL: a writev() per frame */
  uring_rx *rx;                        /* reads through a multishot read (uring_rx.h), or NULL */
  unsigned gathered;
  uring_io writes[URING_BATCH];
  uint8_t headers[URING_BATCH][HEADER_ROOM];
  struct { const uint8_t *frame; size_t size, offset; uint32_t index; } origin[URING_BATCH];
  uint32_t failed_index;               /* after a write error: the index (in write()'s array) of the frame that failed */
  unsigned read_hint;                  /* with a ring: how many frames the last wake-up read */
  int64_t busy_poll_ns;                /* after frames, keep checking the fd this long before sleeping (busyPoll) */
} device;

/* ---- helpers ----------------------------------------------------------- */

#define CHECK(env, call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      throw_last(env, #call);                                                \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static void throw_last(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const char *msg = info && info->error_message ? info->error_message : "unknown";
  char buf[256];
  snprintf(buf, sizeof buf, "tap.node: %s failed: %s", what, msg);
  napi_throw_error(env, "ERR_TAP_NAPI", buf);
}

/* Throws an Error carrying .errno (number) and .syscall (string). */
static void throw_errno(napi_env env, int err, const char *syscall, const char *name) {
  char text[256];
  snprintf(text, sizeof text, "%s %s: %s", syscall, name, strerror(err));
  napi_value msg, error, code, call;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok ||
      napi_create_int32(env, err, &code) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &call) != napi_ok ||
      napi_set_named_property(env, error, "errno", code) != napi_ok ||
      napi_set_named_property(env, error, "syscall", call) != napi_ok) {
    napi_throw_error(env, NULL, text);
    return;
  }
  napi_throw(env, error);
}

static void free_if_unused(device *d) {
  if (d->js_alive || d->poll != NULL) return;
  free(d);
}

static void release_js(device *d) {
  if (d->on_frames) napi_delete_reference(d->env, d->on_frames);
  if (d->on_writable) napi_delete_reference(d->env, d->on_writable);
  if (d->resource) napi_delete_reference(d->env, d->resource);
  if (d->scratch_buffer) napi_delete_reference(d->env, d->scratch_buffer);
  if (d->lengths_buffer) napi_delete_reference(d->env, d->lengths_buffer);
  d->scratch_buffer = d->lengths_buffer = NULL;
  d->scratch = NULL;
  d->lengths = NULL;
  if (d->async_context) napi_async_destroy(d->env, d->async_context);
  d->on_frames = d->on_writable = d->resource = NULL;
  d->async_context = NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  device *d = handle->data;
  free(handle);
  d->poll = NULL;
  release_js(d);
  free_if_unused(d);
}

static void on_env_cleanup(void *arg);

/*
 * Closes the device's ring: it failed (uring.h), or the device closes. The
 * device goes on with a system call per frame, as where io_uring is refused.
 */
static void drop_ring(device *d) {
  uring_close(d->ring);
  d->ring = NULL;
}

/* Stops polling, closes the fd; the state is released from on_poll_closed. */
static void close_device(device *d) {
  if (d->closing) return;
  d->closing = 1;
  napi_remove_env_cleanup_hook(d->env, on_env_cleanup, d);
  d->reading = 0;
  uv_poll_stop(d->poll);
  uv_close((uv_handle_t *)d->poll, on_poll_closed);
  uring_rx_close(d->rx);
  d->rx = NULL;
  close(d->fd);
  d->fd = -1;
  drop_ring(d);
  d->gathered = 0;
}

/* Node is shutting down with the device open: release while env is valid. */
static void on_env_cleanup(void *arg) {
  device *d = arg;
  release_js(d);
  close_device(d);
}

static void on_poll(uv_poll_t *poll, int status, int events);

/* (Re)arms the poll for what is currently wanted. Returns a libuv status. */
static int update_poll(device *d) {
  if (d->closing) return 0;
  int events = (d->reading ? UV_READABLE : 0) | (d->on_writable ? UV_WRITABLE : 0);
  return events ? uv_poll_start(d->poll, events, on_poll) : uv_poll_stop(d->poll);
}

/* Calls fn(args) inside the device's async context and a handle scope. */
static void call_js(device *d, napi_value fn, size_t argc, const napi_value *argv) {
  napi_value recv, result;
  if (napi_get_reference_value(d->env, d->resource, &recv) != napi_ok) return;
  napi_status status = napi_make_callback(d->env, d->async_context, recv, fn, argc, argv, &result);
  if (status == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(d->env, &exception);
    napi_fatal_exception(d->env, exception);
  }
}

/* ---- offload: virtio-net headers ------------------------------------------ */

/*
 * The one's complement sum of p[0..n) as 16-bit words in memory order, not
 * yet folded (RFC 1071): sums of pieces that each start at an even offset
 * of the summed data add up. 32 bytes a round: with SSE2, as eight 32-bit
 * words widened into two vectors of 64-bit sums (~36 ns for 1480 bytes
 * here, against ~100 ns for 64-bit words added one after the other);
 * elsewhere, as 64-bit words into four sums, each carry counted (2^64 is 1
 * in one's complement arithmetic).
 */
static uint64_t sum_words(const uint8_t *p, size_t n) {
  uint64_t sum = 0;
  size_t i = 0;
#ifdef __SSE2__
  __m128i low = _mm_setzero_si128(), high = _mm_setzero_si128();
  const __m128i zero = _mm_setzero_si128();
  for (; i + 32 <= n; i += 32) {
    const __m128i x = _mm_loadu_si128((const __m128i *)(p + i)), y = _mm_loadu_si128((const __m128i *)(p + i + 16));
    low = _mm_add_epi64(low, _mm_add_epi64(_mm_unpacklo_epi32(x, zero), _mm_unpacklo_epi32(y, zero)));
    high = _mm_add_epi64(high, _mm_add_epi64(_mm_unpackhi_epi32(x, zero), _mm_unpackhi_epi32(y, zero)));
  }
  uint64_t lanes[2];
  _mm_storeu_si128((__m128i *)lanes, _mm_add_epi64(low, high));
  sum = lanes[0] + lanes[1];
#else
  uint64_t sums[4] = {0, 0, 0, 0}, carries = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    for (int k = 0; k < 4; k++) {
      sums[k] += w[k];
      carries += sums[k] < w[k];
    }
  }
  for (int k = 0; k < 4; k++) sum += (sums[k] & 0xffffffff) + (sums[k] >> 32);
  sum += carries;
#endif
  for (; i + 4 <= n; i += 4) {
    uint32_t word;
    memcpy(&word, p + i, 4);
    sum += word;
  }
  if (i + 2 <= n) {
    uint16_t half;
    memcpy(&half, p + i, 2);
    sum += half;
    i += 2;
  }
  if (i < n) {
    uint16_t last = 0;
    memcpy(&last, p + i, 1);
    sum += last;
  }
  return sum;
}

/* A `sum_words` total folded to 16 bits (memory order). */
static uint16_t fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

/* The checksum field for a `sum_words` total: folded to 16 bits and complemented. */
static uint16_t fold_complement(uint64_t sum) {
  return (uint16_t)~fold(sum);
}

/* The Internet checksum of p[0..n) (RFC 1071), as stored in memory (byte order of the data). */
static uint16_t internet_checksum(const uint8_t *p, size_t n) {
  return fold_complement(sum_words(p, n));
}

/*
 * A frame the kernel handed over with a partial checksum (CHECKSUM_PARTIAL:
 * the field holds the pseudo-header sum): finish it as a NIC would, so the
 * stack above sees an ordinary frame.
 */
static int complete_checksum(uint8_t *frame, size_t n, uint16_t start, uint16_t offset) {
  if ((size_t)start + offset + 2 > n) return 0;
  uint16_t sum = internet_checksum(frame + start, n - start);
  memcpy(frame + start + offset, &sum, 2);
  return 1;
}

/* An unfragmented IPv4 TCP or UDP frame's layout, as the offloads need it. */
typedef struct transport {
  uint8_t protocol;
  size_t ihl;                          /* IPv4 header length */
  size_t total;                        /* IPv4 total length */
  size_t start;                        /* where the transport header starts in the frame */
  size_t field;                        /* the checksum field's offset in the transport header */
  size_t doff;                         /* TCP: the header's length (data offset); UDP: 0 */
} transport;

/* Fills `t` for an unfragmented IPv4 TCP or UDP frame of n bytes; 0 for any other frame (ARP, ICMP, fragments, bad lengths). */
static int find_transport(const uint8_t *f, size_t n, transport *t) {
  if (n < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4) return 0;
  t->protocol = f[23];
  t->ihl = (size_t)(f[14] & 15) * 4;
  t->total = ((size_t)f[16] << 8) | f[17];
  size_t transport_header = t->protocol == 6 ? 20 : 8;
  int fragment = (f[20] & 0x3f) != 0 || f[21] != 0; /* more-fragments flag or an offset */
  if ((t->protocol != 6 && t->protocol != 17) || fragment || t->ihl < 20 || t->total < t->ihl + transport_header || 14 + t->total > n) return 0;
  t->start = 14 + t->ihl;
  t->field = t->protocol == 6 ? 16 : 6;
  t->doff = t->protocol == 6 ? (size_t)(f[t->start + 12] >> 4) * 4 : 0;
  return 1;
}

/*
 * The `sum_words` total of the IPv4 pseudo-header of the frame `f` laid out
 * as `t`, for a transport header and data of `length` bytes (RFC 9293
 * §3.1): source, destination, protocol and length.
 */
static uint64_t pseudo_header_sum(const uint8_t *f, const transport *t, size_t length) {
  return sum_words(f + 26, 8) + htons(t->protocol) + htons((uint16_t)length);
}

/* Whether the TCP frame `t` is one to cut into segments of `mtu`: bigger than it, with a sound header that leaves room for data. */
static int to_segment(const transport *t, int mtu) {
  return t->protocol == 6 && t->total > (size_t)mtu && t->doff >= 20 && t->total >= t->ihl + t->doff && (size_t)mtu > t->ihl + t->doff;
}

/*
 * The virtio-net header for a frame we send, as a NIC's transmit offloads
 * would treat it:
 * - an unfragmented IPv4 TCP or UDP frame gets its checksum completed
 *   (NEEDS_CSUM): its checksum field is set here to the pseudo-header sum and
 *   the kernel sums the rest when it has to (a segment delivered locally is
 *   trusted as it is), so whatever the field held does not matter;
 * - a TCP frame bigger than the MTU (a segment of several MSS) is also cut by
 *   the kernel (TCPv4 segmentation) into pieces of the MTU less the IP and
 *   TCP headers, each with the frame's headers and options (as TSO does).
 * Anything else (ARP, ICMP, fragments, inconsistent lengths) goes as it is.
 */
static void offload_header(const device *d, uint8_t *f, size_t n, struct virtio_net_hdr *h) {
  memset(h, 0, sizeof *h);
  transport t;
  if (!find_transport(f, n, &t)) return;
  uint16_t pseudo = fold(pseudo_header_sum(f, &t, t.total - t.ihl));
  memcpy(f + t.start + t.field, &pseudo, 2);
  h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h->csum_start = (uint16_t)t.start;
  h->csum_offset = (uint16_t)t.field;
  if (!to_segment(&t, d->mtu)) return;
  h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h->hdr_len = (uint16_t)(t.start + t.doff);
  h->gso_size = (uint16_t)((size_t)d->mtu - t.ihl - t.doff);
}

/* Writes one frame gathered from `parts`; 0 or an errno. */
static int write_parts(int fd, const struct iovec *parts, int count) {
  ssize_t n;
  do n = writev(fd, parts, count); while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

/* ---- sending: frame by frame, or in batches through a ring ------------- */

/* Where the next write's header (a segment's headers, a virtio-net header) is built: its slot of the batch. */
static uint8_t *header_room(device *d) { return d->headers[d->gathered]; }

/* After a failed write: which frame of write()'s array it came from; a cut stopped by EAGAIN resumes at its segment. */
static void note_failure(device *d, unsigned slot, int err) {
  d->failed_index = d->origin[slot].index;
  if ((err == EAGAIN || err == EWOULDBLOCK) && d->origin[slot].frame != NULL) {
    d->resume_frame = d->origin[slot].frame;
    d->resume_size = d->origin[slot].size;
    d->resume_offset = d->origin[slot].offset;
  }
}

/*
 * Runs the writes gathered for the ring, in order; 0, or the errno of the
 * first that failed (none after it ran). If the ring itself fails, the
 * writes it did not run are made one by one, as every write is from then on.
 */
static int flush_writes(device *d) {
  unsigned count = d->gathered;
  int err, ring_failed;
  d->gathered = 0;
  if (count == 0) return 0;
  unsigned done = uring_writev(d->ring, d->fd, d->writes, count, &err, &ring_failed);
  if (ring_failed != 0) {
    drop_ring(d);
    while (err == 0 && done < count && (err = write_parts(d->fd, d->writes[done].parts, d->writes[done].count)) == 0) done++;
  }
  if (err != 0) note_failure(d, done, err);
  return err;
}

/*
 * One frame's write of `parts` (a header in header_room(d), if any), made
 * from frames[index] of write()'s array; for a segment of a cut frame,
 * `cut` is that frame (`size` bytes) and `offset` the segment's place in its
 * data. Without a ring it is written at once; with one it is queued and the
 * batch runs when full. 0 or an errno (d->failed_index then set).
 */
static int gather(device *d, const struct iovec *parts, int count, uint32_t index, const uint8_t *cut, size_t size, size_t offset) {
  unsigned slot = d->gathered++;
  uring_io *w = &d->writes[slot];
  memcpy(w->parts, parts, (size_t)count * sizeof *parts);
  w->count = count;
  d->origin[slot].frame = cut;
  d->origin[slot].size = size;
  d->origin[slot].offset = offset;
  d->origin[slot].index = index;
  if (d->ring != NULL) return d->gathered < URING_BATCH ? 0 : flush_writes(d);
  d->gathered = 0;
  int err = write_parts(d->fd, w->parts, count);
  if (err != 0) note_failure(d, slot, err);
  return err;
}

static void put16(uint8_t *p, size_t value) {
  p[0] = (uint8_t)(value >> 8);
  p[1] = (uint8_t)value;
}

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/*
 * Writes one frame with the addon's own offload ("software"), doing what the
 * kernel does with the virtio-net header offload_header() would give it:
 * - an unfragmented IPv4 TCP or UDP frame gets its checksum computed here;
 * - a TCP frame bigger than the MTU is cut into segments of the MTU, each
 *   with the frame's headers and options, its own length, identification
 *   (the frame's plus the number of segments before it, as Linux's GSO
 *   numbers them), sequence number and both checksums; FIN and PSH stay on
 *   the last segment and CWR on the first only (as TSO does). Each segment
 *   is written on its own, its header from a small buffer and its data from
 *   the frame, without a copy.
 * Anything else goes as it is. Each write goes through gather() (frames[index]
 * of write()'s array). Returns 0 or an errno. After EAGAIN in the middle of
 * a cut, writing the same frame again resumes at the segment that failed,
 * so none goes out twice.
 */
static int software_write(device *d, uint8_t *f, size_t n, uint32_t index) {
  struct iovec whole = {f, n};
  transport t;
  if (!find_transport(f, n, &t)) return gather(d, &whole, 1, index, NULL, 0, 0);
  size_t ihl = t.ihl, start = t.start, doff = t.doff;
  if (!to_segment(&t, d->mtu)) {
    f[start + t.field] = f[start + t.field + 1] = 0;
    uint16_t sum = fold_complement(pseudo_header_sum(f, &t, t.total - ihl) + sum_words(f + start, t.total - ihl));
    if (t.protocol == 17 && sum == 0) sum = 0xffff; /* a UDP sum of zero is sent as all ones (RFC 768) */
    memcpy(f + start + t.field, &sum, 2);
    return gather(d, &whole, 1, index, NULL, 0, 0);
  }
  size_t headers = start + doff, mss = (size_t)d->mtu - ihl - doff, data = t.total - ihl - doff;
  uint32_t sequence;
  memcpy(&sequence, f + start + 4, 4);
  sequence = ntohl(sequence);
  size_t identification = ((size_t)f[18] << 8) | f[19];
  uint8_t flags = f[start + 13];
  size_t offset = d->resume_frame == f && d->resume_size == n ? d->resume_offset : 0;
  d->resume_frame = NULL;
  for (; offset < data; offset += mss) {
    size_t length = data - offset < mss ? data - offset : mss;
    uint8_t *h = header_room(d);
    memcpy(h, f, headers);
    put16(h + 16, ihl + doff + length);
    put16(h + 18, identification + offset / mss);
    h[24] = h[25] = 0;
    uint16_t header_sum = internet_checksum(h + 14, ihl);
    memcpy(h + 24, &header_sum, 2);
    uint32_t seq = htonl(sequence + (uint32_t)offset);
    memcpy(h + start + 4, &seq, 4);
    h[start + 13] = (uint8_t)(flags & ~(offset + length < data ? TCP_FIN | TCP_PSH : 0) & ~(offset > 0 ? TCP_CWR : 0));
    h[start + 16] = h[start + 17] = 0;
    uint16_t sum = fold_complement(pseudo_header_sum(f, &t, doff + length) + sum_words(h + start, doff) +
                                   sum_words(f + headers + offset, length));
    memcpy(h + start + 16, &sum, 2);
    struct iovec parts[2] = {{h, headers}, {f + headers + offset, length}};
    int err = gather(d, parts, 2, index, f, n, offset);
    if (err != 0) return err;
  }
  return 0;
}

/* ---- receive ----------------------------------------------------------- */

static int is_transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

/*
 * Whether the transport checksum of a frame read (with `header`, under the
 * kernel's offload) is right: the kernel checked it, or it is completed here.
 */
static int known_good(const device *d, const struct virtio_net_hdr *header, uint8_t *frame, size_t n) {
  return d->offload == OFFLOAD_KERNEL &&
      ((header->flags & VIRTIO_NET_HDR_F_DATA_VALID) ||
       ((header->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && complete_checksum(frame, n, header->csum_start, header->csum_offset)));
}

/* Reads up to MAX_BATCH frames; returns the count, *err = 0 or a hard errno. */
static int drain(device *d, size_t *used, int *err) {
  int count = 0;
  *used = 0;
  *err = 0;
  while (count < MAX_BATCH && SCRATCH - *used >= SLOT) {
    struct virtio_net_hdr header;
    struct iovec parts[2] = {{&header, sizeof header}, {d->scratch + *used, SLOT}};
    ssize_t n = d->offload == OFFLOAD_KERNEL ? readv(d->fd, parts, 2) - (ssize_t)sizeof header : read(d->fd, d->scratch + *used, SLOT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!is_transient(errno)) *err = errno;
      break;
    }
    d->lengths[count++] = (uint32_t)n | (known_good(d, &header, d->scratch + *used, (size_t)n) ? CHECKSUM_VERIFIED : 0);
    *used += (size_t)n;
  }
  return count;
}

/*
 * drain() with a ring: rounds of readv()s, a system call each, into the
 * scratch slots (each frame then moved down to follow the one before).
 * Each round has as many reads as the last wake-up found frames (4 to 32,
 * and as many as there is room for), until a read finds the device empty;
 * growing the rounds (twice as many each time) only left more reads to
 * find it empty.
 * If the ring fails, the frames it read are kept and the ring is dropped.
 */
static int drain_ring(device *d, size_t *used, int *err) {
  struct virtio_net_hdr headers[MAX_BATCH];
  uring_io reads[MAX_BATCH];
  int results[MAX_BATCH];
  int count = 0, empty = 0;
  const unsigned want = d->read_hint < 4 ? 4 : d->read_hint > 32 ? 32 : d->read_hint;
  *used = 0;
  *err = 0;
  while (!empty && *err == 0) {
    unsigned n = want, room = (unsigned)((SCRATCH - *used) / SLOT);
    if (n > (unsigned)(MAX_BATCH - count)) n = (unsigned)(MAX_BATCH - count);
    if (n > room) n = room;
    if (n == 0) break;
    uint8_t *base = d->scratch + *used;
    for (unsigned i = 0; i < n; i++) {
      struct iovec header = {&headers[i], sizeof headers[i]}, slot = {base + (size_t)i * SLOT, SLOT};
      reads[i].parts[0] = d->offload == OFFLOAD_KERNEL ? header : slot;
      reads[i].parts[1] = slot;
      reads[i].count = d->offload == OFFLOAD_KERNEL ? 2 : 1;
    }
    int ring_failed = uring_readv(d->ring, d->fd, reads, n, results);
    for (unsigned i = 0; i < n; i++) {
      if (results[i] == URING_NOT_RUN) {
        empty = 1;
        continue;
      }
      ssize_t got = results[i] - (d->offload == OFFLOAD_KERNEL ? (ssize_t)sizeof headers[i] : 0);
      if (results[i] < 0 || got <= 0) {
        empty = 1;
        if (results[i] < 0 && !is_transient(-results[i]) && *err == 0) *err = -results[i];
        continue;
      }
      uint8_t *frame = d->scratch + *used;
      memmove(frame, base + (size_t)i * SLOT, (size_t)got);
      d->lengths[count++] = (uint32_t)got | (known_good(d, &headers[i], frame, (size_t)got) ? CHECKSUM_VERIFIED : 0);
      *used += (size_t)got;
    }
    if (ring_failed != 0) {
      /* The frames it read are kept; the next wake-up reads the rest without it. */
      drop_ring(d);
      break;
    }
  }
  d->read_hint = (unsigned)count;
  return count;
}

/* A wake-up's frames as a multishot read hands them over: copied one after the other into the receive buffer. */
typedef struct batch {
  device *d;
  size_t used;
  int count;
} batch;

static void take_frame(void *context, const uint8_t *frame, size_t n) {
  batch *b = context;
  memcpy(b->d->scratch + b->used, frame, n);
  b->d->lengths[b->count++] = (uint32_t)n;
  b->used += n;
}

/*
 * drain() through the device's multishot read (uring_rx.h): one system
 * call reads every frame waiting (up to URING_RX_BUFFERS, each shorter
 * than RX_BUFFER bytes, so they all fit). If the ring fails, the frames it
 * read are kept and it is closed; the next wake-up reads through the ring
 * of plain reads, or without one. So it is too once a frame too big for
 * its buffers came (the TAP's MTU was raised past RX_BUFFER after it was
 * opened): that frame is dropped, as a NIC drops one bigger than its
 * buffers, and the next ones are read whole.
 */
static int drain_multishot(device *d, size_t *used, int *err) {
  batch b = {d, 0, 0};
  int ring_failed = 0;
  *err = uring_rx_run(d->rx, take_frame, &b, &ring_failed);
  if (ring_failed != 0 || d->rx->cut) {
    uring_rx_close(d->rx);
    d->rx = NULL;
  }
  *used = b.used;
  return b.count;
}

static void deliver(device *d, int count, int err) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(d->env, &scope) != napi_ok) return;
  napi_value fn, argv[3], lengths_buffer;
  if (napi_get_reference_value(d->env, d->on_frames, &fn) == napi_ok && fn != NULL &&
      napi_get_reference_value(d->env, d->scratch_buffer, &argv[0]) == napi_ok && argv[0] != NULL &&
      napi_get_reference_value(d->env, d->lengths_buffer, &lengths_buffer) == napi_ok && lengths_buffer != NULL &&
      napi_create_typedarray(d->env, napi_uint32_array, (size_t)count, lengths_buffer, 0, &argv[1]) == napi_ok &&
      napi_create_int32(d->env, err, &argv[2]) == napi_ok) {
    call_js(d, fn, 3, argv);
  }
  napi_close_handle_scope(d->env, scope);
}

/* POLLERR: take the pending socket error (packet sockets) or report EBADFD. */
static int pending_error(device *d) {
  int err = 0;
  socklen_t len = sizeof err;
  if (d->kind == KIND_PACKET && getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) return err;
  return EBADFD;
}

static void on_writable_event(device *d) {
  napi_ref ref = d->on_writable;
  d->on_writable = NULL;
  update_poll(d);
  napi_handle_scope scope;
  if (napi_open_handle_scope(d->env, &scope) != napi_ok) return;
  napi_value fn;
  if (napi_get_reference_value(d->env, ref, &fn) == napi_ok && fn != NULL) call_js(d, fn, 0, NULL);
  napi_delete_reference(d->env, ref);
  napi_close_handle_scope(d->env, scope);
}

/* The monotonic clock, in nanoseconds. */
static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Whether the fd has a frame to read now (no waiting). */
static int readable_now(const device *d) {
  struct pollfd p = {d->fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Reads what the fd has (up to MAX_BATCH frames) and hands it to JavaScript; the count read, *err = 0 or a hard errno. */
static int read_and_deliver(device *d, int *err) {
  size_t used;
  int count = d->rx != NULL ? drain_multishot(d, &used, err) : d->ring != NULL ? drain_ring(d, &used, err) : drain(d, &used, err);
  if (count > 0 || *err) deliver(d, count, *err);
  return count;
}

/*
 * Busy polling after a wake-up that read frames: reads and delivers what
 * comes until busy_poll_ns pass with nothing, an error, a pause or a
 * close, or the wake-up has taken BUSY_POLL_TURN_NS.
 */
static void busy_poll(device *d) {
  const int64_t start = now_ns();
  int64_t last = start;
  for (;;) {
    if (d->closing || !d->reading) return;
    int err = 0;
    const int readable = readable_now(d);
    if (readable) read_and_deliver(d, &err);
    if (err) return;
    const int64_t now = now_ns();
    if (readable) last = now;
    if (now - last > d->busy_poll_ns || now - start > BUSY_POLL_TURN_NS) return;
  }
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  device *d = poll->data;
  if (d->closing) return;
  if (status < 0) {
    /* libuv stopped the watcher; a packet socket error is transient. */
    int err = pending_error(d);
    if (d->kind == KIND_PACKET && err != ENODEV && err != ENXIO && err != EBADFD) update_poll(d);
    else d->reading = 0;
    if (d->on_frames) deliver(d, 0, err);
    return;
  }
  if ((events & UV_WRITABLE) && d->on_writable) on_writable_event(d);
  if (d->closing || !d->reading || !(events & UV_READABLE)) return;
  int err;
  int count = read_and_deliver(d, &err);
  if (count > 0 && !err && d->busy_poll_ns > 0) busy_poll(d);
}

/* ---- JS API -------------------------------------------------------------- */

/* Re-arms the poll after a change of what is wanted; throws (and returns NULL) if libuv refuses. */
static napi_value rearm(napi_env env, device *d) {
  int rc = update_poll(d);
  if (rc < 0) throw_errno(env, -rc, "uv_poll_start", "device");
  return NULL;
}

static void finalize_device(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  device *d = data;
  d->js_alive = 0;
  if (!d->closing) close_device(d);
  else free_if_unused(d);
}

static device *get_device(napi_env env, napi_value value) {
  device *d = NULL;
  if (napi_get_value_external(env, value, (void **)&d) != napi_ok || d == NULL) {
    napi_throw_type_error(env, "ERR_TAP_HANDLE", "expected a tap.node device handle");
    return NULL;
  }
  if (d->closing) {
    throw_errno(env, EBADF, "use", "a closed device");
    return NULL;
  }
  return d;
}

/*
 * The arguments of a call taking a device first: up to *argc of them into
 * argv (*argc becomes how many were passed), and the device; NULL after
 * throwing.
 */
static device *device_call(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) {
    throw_last(env, "napi_get_cb_info");
    return NULL;
  }
  return get_device(env, argv[0]);
}

/*
 * Wraps an open fd into a device + JS result {handle, name, mac, mtu,
 * offload, ring, threaded} (offload: TCP frames up to a whole packet and
 * unsummed frames may be written; ring: reads and each write()'s frames go
 * through an io_uring, as asked by `ring` and where the kernel allows it;
 * threaded: as the caller found it, see openTap); `mtu_override` >= 68
 * replaces the interface's.
 */
static napi_value make_device(napi_env env, int fd, enum kind kind, enum offload offload, int mtu_override, int ring, bool threaded, const char *name) {
  device *d = calloc(1, sizeof *d);
  uv_poll_t *poll = malloc(sizeof *poll);
  uv_loop_t *loop = NULL;
  if (!d || !poll || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, poll, fd) != 0) {
    free(d);
    free(poll);
    close(fd);
    throw_errno(env, ENOMEM, "uv_poll_init", name);
    return NULL;
  }
  d->fd = fd;
  d->kind = kind;
  d->offload = offload;
  d->poll = poll;
  d->env = env;
  d->js_alive = 1;
  poll->data = d;
  napi_add_env_cleanup_hook(env, on_env_cleanup, d);

  /* MAC and MTU of the interface as the kernel sees it (best effort). */
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int mtu = 1500;
  uint8_t mac[6] = {0};
  if (probe >= 0) {
    if (ioctl(probe, SIOCGIFMTU, &ifr) == 0) mtu = ifr.ifr_mtu;
    if (ioctl(probe, SIOCGIFHWADDR, &ifr) == 0) memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(probe);
  }
  d->mtu = mtu_override >= 68 ? mtu_override : mtu;
  d->ring = ring ? uring_open() : NULL;
  if (d->ring != NULL && !uring_usable(d->ring, fd)) drop_ring(d);
  if (d->ring != NULL) uring_register(d->ring, fd);
  /*
   * A TAP's frames, up to its MTU (and a VLAN tag), fit a multishot read's
   * buffers; not with the kernel's offload, which hands over bigger ones,
   * nor on a packet socket, which sees what arrives whatever its size.
   */
  if (d->ring != NULL && kind == KIND_TAP && offload != OFFLOAD_KERNEL && (size_t)d->mtu + 14 + 4 < RX_BUFFER) d->rx = uring_rx_open(fd, RX_BUFFER);

  napi_value result, handle, resource, resource_name, js_name, js_mtu, js_mac, mac_buffer, js_offload, js_ring, js_multishot, js_threaded;
  void *mac_data = NULL;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_reference(env, resource, 1, &d->resource) != napi_ok ||
      napi_create_string_utf8(env, "effect-uk:tap", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, resource, resource_name, &d->async_context) != napi_ok ||
      napi_create_external(env, d, finalize_device, NULL, &handle) != napi_ok) {
    throw_last(env, "creating the device handle");
    close_device(d);
    d->js_alive = 0;
    return NULL;
  }
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &js_name));
  CHECK(env, napi_create_int32(env, mtu, &js_mtu));
  CHECK(env, napi_create_arraybuffer(env, 6, &mac_data, &mac_buffer));
  memcpy(mac_data, mac, 6);
  CHECK(env, napi_create_typedarray(env, napi_uint8_array, 6, mac_buffer, 0, &js_mac));
  CHECK(env, napi_set_named_property(env, result, "handle", handle));
  CHECK(env, napi_set_named_property(env, result, "name", js_name));
  CHECK(env, napi_set_named_property(env, result, "mtu", js_mtu));
  CHECK(env, napi_set_named_property(env, result, "mac", js_mac));
  CHECK(env, napi_get_boolean(env, offload != OFFLOAD_NONE, &js_offload));
  CHECK(env, napi_set_named_property(env, result, "offload", js_offload));
  CHECK(env, napi_get_boolean(env, d->ring != NULL, &js_ring));
  CHECK(env, napi_set_named_property(env, result, "ring", js_ring));
  CHECK(env, napi_get_boolean(env, d->rx != NULL, &js_multishot));
  CHECK(env, napi_set_named_property(env, result, "multishot", js_multishot));
  CHECK(env, napi_get_boolean(env, threaded, &js_threaded));
  CHECK(env, napi_set_named_property(env, result, "threaded", js_threaded));
  return result;
}

static int get_name_arg(napi_env env, napi_callback_info info, char name[IFNAMSIZ]) {
  size_t argc = 1, len = 0;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || len == 0 || len >= IFNAMSIZ ||
      napi_get_value_string_utf8(env, argv[0], name, IFNAMSIZ, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_TAP_ARG", "expected an interface name (a string of 1 to 15 bytes)");
    return 0;
  }
  return 1;
}

/* Reads the offload argument (true, false or "software"; absent: false); 0, with a TypeError thrown, for anything else. */
static int get_offload_arg(napi_env env, size_t argc, napi_value *argv, enum offload *offload) {
  napi_valuetype type = napi_undefined;
  bool flag = false;
  char text[16] = {0};
  size_t len = 0;
  if (argc >= 2 && napi_typeof(env, argv[1], &type) != napi_ok) return 0;
  if (type == napi_undefined) *offload = OFFLOAD_NONE;
  else if (type == napi_boolean && napi_get_value_bool(env, argv[1], &flag) == napi_ok) *offload = flag ? OFFLOAD_KERNEL : OFFLOAD_NONE;
  else if (type == napi_string && napi_get_value_string_utf8(env, argv[1], text, sizeof text, &len) == napi_ok && !strcmp(text, "software"))
    *offload = OFFLOAD_SOFTWARE;
  else {
    napi_throw_type_error(env, "ERR_TAP_ARG", "offload must be true (the kernel's), \"software\" (the addon's) or false");
    return 0;
  }
  return 1;
}

/*
 * Opens /dev/net/tun as the TAP `name` (created if missing) with IFF_NAPI
 * when `napi`, and the offload asked for; its name is left in `ifr`. The fd,
 * or -1 with errno set and *step naming the call that failed.
 */
static int attach_tap(const char *name, bool napi, enum offload offload, struct ifreq *ifr, const char **step) {
  *step = "open /dev/net/tun";
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (offload == OFFLOAD_KERNEL ? IFF_VNET_HDR : 0) | (napi ? IFF_NAPI : 0);
  snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
  *step = "ioctl TUNSETIFF";
  if (ioctl(fd, TUNSETIFF, ifr) == 0) {
    *step = "ioctl TUNSETOFFLOAD";
    if (offload != OFFLOAD_KERNEL || ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0) return fd;
  }
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

/*
 * Moves the NAPI poll of interface `name` to a kernel thread of its own
 * (/sys/class/net/<name>/threaded = 1). Sysfs shows the network namespace
 * it was mounted in, so the entry counts only if its ifindex is the one
 * `name` has in ours. 1 when done.
 */
static int make_napi_threaded(const char *name) {
  char path[64], text[16] = {0};
  unsigned int ifindex = if_nametoindex(name);
  snprintf(path, sizeof path, "/sys/class/net/%s/ifindex", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (ifindex == 0 || n <= 0 || strtoul(text, NULL, 10) != ifindex) return 0;
  snprintf(path, sizeof path, "/sys/class/net/%s/threaded", name);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int done = write(fd, "1", 1) == 1;
  close(fd);
  return done;
}

/*
 * openTap(name, offload, mtu, ring, threaded): creates the TAP if missing,
 * or attaches to an existing one; offload as at the top (the kernel's:
 * virtio-net headers and TSO); `mtu` (optional) replaces the interface's as
 * the size TCP frames are segmented to; `ring` (default true): read and
 * write through an io_uring where the kernel allows it (uring.h);
 * `threaded` (default false): the kernel's receive path for what we write
 * runs on a NAPI thread of its own, where it can be turned on (see the top).
 * The device reports `ring` and `threaded` as they turned out.
 */
static napi_value js_open_tap(napi_env env, napi_callback_info info) {
  char name[IFNAMSIZ] = {0};
  if (!get_name_arg(env, info, name)) return NULL;
  size_t argc = 5;
  napi_value argv[5];
  enum offload offload;
  int32_t mtu = 0;
  bool ring = true, threaded = false;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_offload_arg(env, argc, argv, &offload)) return NULL;
  if (argc >= 3) napi_get_value_int32(env, argv[2], &mtu);
  if (argc >= 4) napi_get_value_bool(env, argv[3], &ring);
  if (argc >= 5) napi_get_value_bool(env, argv[4], &threaded);
  struct ifreq ifr;
  const char *step = NULL;
  int fd = -1;
  if (threaded) {
    fd = attach_tap(name, true, offload, &ifr, &step);
    if (fd >= 0 && !make_napi_threaded(ifr.ifr_name)) {
      close(fd);
      fd = -1;
    }
    threaded = fd >= 0;
  }
  if (fd < 0) fd = attach_tap(name, false, offload, &ifr, &step);
  if (fd < 0) {
    throw_errno(env, errno, step, name);
    return NULL;
  }
  return make_device(env, fd, KIND_TAP, offload, mtu, ring, threaded, ifr.ifr_name);
}

/*
 * Turn generic receive offload off on the interface: GRO merges received TCP
 * segments before AF_PACKET sees them, which would hand a stack without
 * offload frames larger than the MTU with stale checksums. Best effort: an
 * interface that cannot do GRO has nothing to turn off.
 */
static void disable_gro(int fd, const char *name) {
  struct ethtool_value value = {.cmd = ETHTOOL_SGRO, .data = 0};
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  ifr.ifr_data = (void *)&value;
  (void)ioctl(fd, SIOCETHTOOL, &ifr);
}

/*
 * openPacket(name, offload, mtu, ring): an AF_PACKET raw socket bound to an
 * existing interface. With the kernel's offload, frames carry virtio-net
 * headers (PACKET_VNET_HDR) as on a TAP with offload: the kernel segments
 * our TCP frames bigger than the MTU and completes our checksums (the NIC
 * does if it can), and the interface's GRO is left as it is, merged
 * segments reaching us with their checksums vouched for. Otherwise the
 * interface's GRO is turned off. `mtu` and `ring` as for openTap.
 */
static napi_value js_open_packet(napi_env env, napi_callback_info info) {
  char name[IFNAMSIZ] = {0};
  if (!get_name_arg(env, info, name)) return NULL;
  size_t argc = 4;
  napi_value argv[4];
  enum offload offload;
  int32_t mtu = 0;
  bool ring = true;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_offload_arg(env, argc, argv, &offload)) return NULL;
  if (argc >= 3) napi_get_value_int32(env, argv[2], &mtu);
  if (argc >= 4) napi_get_value_bool(env, argv[3], &ring);
  unsigned int ifindex = if_nametoindex(name);
  if (ifindex == 0) {
    throw_errno(env, errno, "if_nametoindex", name);
    return NULL;
  }
  /* Protocol 0 until bound, so no frames of other interfaces get queued. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket AF_PACKET", name);
    return NULL;
  }
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = (int)ifindex;
  struct packet_mreq promisc;
  memset(&promisc, 0, sizeof promisc);
  promisc.mr_ifindex = (int)ifindex;
  promisc.mr_type = PACKET_MR_PROMISC;
  int one = 1;
  const char *step = NULL;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) step = "bind AF_PACKET";
  else if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof promisc) < 0) step = "setsockopt PACKET_MR_PROMISC";
  else if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) step = "setsockopt PACKET_IGNORE_OUTGOING";
  else if (offload == OFFLOAD_KERNEL && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) step = "setsockopt PACKET_VNET_HDR";
  if (step) {
    int err = errno;
    close(fd);
    throw_errno(env, err, step, name);
    return NULL;
  }
  if (offload != OFFLOAD_KERNEL) disable_gro(fd, name);
  return make_device(env, fd, KIND_PACKET, offload, mtu, ring, false, name);
}

/*
 * Makes `value`, an ArrayBuffer of at least SCRATCH bytes, the buffer the
 * device reads into from its next wake-up on; throws (and returns 0) if it
 * is not one.
 */
static int adopt_buffer(napi_env env, device *d, napi_value value) {
  void *data = NULL;
  size_t size = 0;
  bool is_buffer = false;
  napi_ref ref;
  if (napi_is_arraybuffer(env, value, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(env, value, &data, &size) != napi_ok || size < SCRATCH) {
    napi_throw_range_error(env, "ERR_TAP_BUFFER", "tap.node: the receive buffer must be an ArrayBuffer of at least receiveBufferBytes bytes");
    return 0;
  }
  if (napi_create_reference(env, value, 1, &ref) != napi_ok) {
    throw_last(env, "napi_create_reference");
    return 0;
  }
  if (d->scratch_buffer) napi_delete_reference(env, d->scratch_buffer);
  d->scratch_buffer = ref;
  d->scratch = data;
  return 1;
}

/*
 * start(handle, onFrames[, buffer]): begins reading; onFrames(data, lengths,
 * errno), where data is the device's receive buffer and lengths a view of
 * the device's lengths buffer: both valid during the call only (the next
 * wake-up reads into them again, unless setBuffer gave the device another
 * receive buffer). `buffer`: the ArrayBuffer to read into (at least
 * receiveBufferBytes bytes, e.g. WebAssembly memory); default: one of the
 * addon's.
 */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  if (d->on_frames) {
    napi_throw_error(env, "ERR_TAP_STARTED", "tap.node: start() called twice on one device");
    return NULL;
  }
  napi_valuetype type;
  CHECK(env, napi_typeof(env, argv[2], &type)); /* missing arguments are undefined */
  if (type == napi_undefined) {
    void *data = NULL;
    CHECK(env, napi_create_arraybuffer(env, SCRATCH, &data, &argv[2]));
  }
  if (!adopt_buffer(env, d, argv[2])) return NULL;
  /* One lengths buffer, not one per wake-up: a new ArrayBuffer is a malloc and a GC-tracked backing store each time. */
  napi_value lengths;
  CHECK(env, napi_create_arraybuffer(env, MAX_BATCH * 4, (void **)&d->lengths, &lengths));
  CHECK(env, napi_create_reference(env, lengths, 1, &d->lengths_buffer));
  CHECK(env, napi_create_reference(env, argv[1], 1, &d->on_frames));
  d->reading = 1;
  return rearm(env, d);
}

/*
 * setBuffer(handle, buffer): reads from the next wake-up on go into
 * `buffer` (an ArrayBuffer of at least receiveBufferBytes bytes); the
 * device no longer writes the one before, which the caller may keep.
 */
static napi_value js_set_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  adopt_buffer(env, d, argv[1]);
  return NULL;
}

static napi_value set_reading(napi_env env, napi_callback_info info, int reading) {
  size_t argc = 1;
  napi_value argv[1];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  d->reading = reading && d->on_frames != NULL;
  return rearm(env, d);
}

/*
 * busyPoll(handle, micros): after a wake-up that read frames, keep checking
 * for more for `micros` (0 to MAX_BUSY_POLL_US; 0, the default, is off).
 */
static napi_value js_busy_poll(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  double micros = -1;
  if (argc < 2 || napi_get_value_double(env, argv[1], &micros) != napi_ok || !(micros >= 0 && micros <= MAX_BUSY_POLL_US)) {
    napi_throw_range_error(env, "ERR_TAP_BUSY_POLL", "tap.node: busyPoll() takes 0 to " STRING(MAX_BUSY_POLL_US) " microseconds");
    return NULL;
  }
  d->busy_poll_ns = (int64_t)(micros * 1000);
  return NULL;
}

/* pause(handle): stop reading until resume(handle). */
static napi_value js_pause(napi_env env, napi_callback_info info) { return set_reading(env, info, 0); }

/* resume(handle): read again after pause(handle). */
static napi_value js_resume(napi_env env, napi_callback_info info) { return set_reading(env, info, 1); }

/*
 * write(handle, frames, start) -> { done, errno }: writes frames[start..] in
 * order and stops at the first frame the kernel does not take: `done` frames
 * were written, `errno` says why it stopped (0: all written; EAGAIN: wait
 * with waitWritable; anything else: frames[start + done] was refused).
 */
static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  uint32_t length = 0, start = 0, next;
  int err = 0;
  CHECK(env, napi_get_array_length(env, argv[1], &length));
  CHECK(env, napi_get_value_uint32(env, argv[2], &start));
  for (next = start; next < length; next++) {
    napi_value element;
    napi_typedarray_type type;
    size_t size;
    void *data;
    CHECK(env, napi_get_element(env, argv[1], next, &element));
    if (napi_get_typedarray_info(env, element, &type, &size, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
      flush_writes(d); /* the frames before it go, as they would have one by one */
      napi_throw_type_error(env, "ERR_TAP_ARG", "tap.node: write() expects an array of Uint8Array frames");
      return NULL;
    }
    struct virtio_net_hdr *header = (struct virtio_net_hdr *)header_room(d);
    struct iovec parts[2] = {{header, sizeof *header}, {data, size}};
    if (d->offload == OFFLOAD_KERNEL) offload_header(d, data, size, header);
    err = d->offload == OFFLOAD_SOFTWARE ? software_write(d, data, size, next)
        : d->offload == OFFLOAD_KERNEL ? gather(d, parts, 2, next, NULL, 0, 0)
        : gather(d, parts + 1, 1, next, NULL, 0, 0);
    if (err != 0) break;
  }
  if (err == 0) err = flush_writes(d);
  if (err != 0) next = d->failed_index;
  napi_value result, js_done, js_err;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_uint32(env, next > start ? next - start : 0, &js_done));
  CHECK(env, napi_create_int32(env, err, &js_err));
  CHECK(env, napi_set_named_property(env, result, "done", js_done));
  CHECK(env, napi_set_named_property(env, result, "errno", js_err));
  return result;
}

/* waitWritable(handle, cb): calls cb() once, when the fd accepts writes. */
static napi_value js_wait_writable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  device *d = device_call(env, info, &argc, argv);
  if (!d) return NULL;
  if (d->on_writable) napi_delete_reference(env, d->on_writable);
  CHECK(env, napi_create_reference(env, argv[1], 1, &d->on_writable));
  return rearm(env, d);
}

/* close(handle): idempotent; pending callbacks are dropped. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  device *d = NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&d) != napi_ok || d == NULL) {
    napi_throw_type_error(env, "ERR_TAP_HANDLE", "expected a tap.node device handle");
    return NULL;
  }
  close_device(d);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"openTap", NULL, js_open_tap, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openPacket", NULL, js_open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
    {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setBuffer", NULL, js_set_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
    {"busyPoll", NULL, js_busy_poll, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pause", NULL, js_pause, NULL, NULL, NULL, napi_enumerable, NULL},
    {"resume", NULL, js_resume, NULL, NULL, NULL, napi_enumerable, NULL},
    {"write", NULL, js_write, NULL, NULL, NULL, napi_enumerable, NULL},
    {"waitWritable", NULL, js_wait_writable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  /* errno values this addon reports that JS must tell apart (Node's table lacks EBADFD). */
  static const struct { const char *name; int code; } codes[] = {
    {"EAGAIN", EAGAIN}, {"EBADF", EBADF}, {"EBADFD", EBADFD}, {"ENODEV", ENODEV}, {"ENXIO", ENXIO},
    {"EPIPE", EPIPE}, {"ENOBUFS", ENOBUFS}, {"ENETDOWN", ENETDOWN}, {"EPERM", EPERM}, {"EACCES", EACCES},
    {"ENOENT", ENOENT}, {"EBUSY", EBUSY}, {"EINVAL", EINVAL},
  };
  napi_value max_batch, buffer_bytes, verified_flag, errnos, code;
  if (napi_create_uint32(env, MAX_BATCH, &max_batch) != napi_ok ||
      napi_create_uint32(env, SCRATCH, &buffer_bytes) != napi_ok ||
      napi_create_uint32(env, CHECKSUM_VERIFIED, &verified_flag) != napi_ok ||
      napi_create_object(env, &errnos) != napi_ok ||
      napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
      napi_set_named_property(env, exports, "maxBatch", max_batch) != napi_ok ||
      napi_set_named_property(env, exports, "receiveBufferBytes", buffer_bytes) != napi_ok ||
      napi_set_named_property(env, exports, "checksumVerified", verified_flag) != napi_ok ||
      napi_set_named_property(env, exports, "errno", errnos) != napi_ok) {
    throw_last(env, "module init");
    return NULL;
  }
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    if (napi_create_int32(env, codes[i].code, &code) != napi_ok ||
        napi_set_named_property(env, errnos, codes[i].name, code) != napi_ok) {
      throw_last(env, "module init");
      return NULL;
    }
  }
  return exports;
}
