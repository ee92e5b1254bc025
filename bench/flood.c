/*
 * The kernel-side sender of bench/tapEcho.ts: `flood <ifname> <size> <seconds>`
 * sends frames of `size` bytes (EtherType 0x88b5, to the echo's MAC) out of
 * `ifname` through an AF_PACKET socket, 64 per sendmmsg() call, as fast as
 * it can for `seconds`, then prints the frames per second it offered. One
 * system call per 64 frames: it offers frames faster than an echo can take
 * them, so the echo's rate is its own ceiling, not the sender's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: flood <ifname> <size> <seconds>\n");
    return 2;
  }
  size_t size = (size_t)atoi(argv[2]);
  double seconds = atof(argv[3]);
  static unsigned char frame[9216];
  if (size < 14 || size > sizeof frame) {
    fprintf(stderr, "flood: size must be 14 to %zu bytes\n", sizeof frame);
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  struct sockaddr_ll address;
  memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = 0; /* send only: the echoed frames are not queued to this socket */
  address.sll_ifindex = (int)if_nametoindex(argv[1]);
  if (fd < 0 || address.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    perror("flood: AF_PACKET socket on the interface");
    return 1;
  }
  memcpy(frame, "\x02\x00\x00\x00\xbe\xef\x02\x00\x00\x00\xca\xfe\x88\xb5", 14);
  struct mmsghdr messages[BATCH];
  struct iovec parts[BATCH];
  memset(messages, 0, sizeof messages);
  for (int i = 0; i < BATCH; i++) {
    parts[i].iov_base = frame;
    parts[i].iov_len = size;
    messages[i].msg_hdr.msg_iov = &parts[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  long sent = 0;
  double start = now();
  while (now() - start < seconds) {
    int n = sendmmsg(fd, messages, BATCH, 0);
    if (n > 0) sent += n;
  }
  printf("%f\n", (double)sent / (now() - start));
  return 0;
}
