/*
 * The sink, source, echo server and request/response client of bench/tcp.ts,
 * over BSD sockets. Built twice by the bench: plain (the kernel's stack, for
 * the peer in the namespace and the veth reference) and with -DUSE_LWIP
 * (lwIP's socket API, linked with lwip_tap.c, which calls run_transfer).
 *
 *   MODE ROLE HOST PORT SECONDS
 *   sink   listen|connect  read until end of stream
 *   source listen|connect  write 256 KiB buffers for SECONDS, shut down, wait for the end
 *   echo   listen          echo each connection until its end, one after another, forever
 *   rr     connect         for SECONDS: connect, write 32 bytes, read them back, reset
 *
 * Prints one JSON line: bytes (rr: requests), seconds (sink: first to last
 * byte), cpu (user + system seconds of the process), and for rr p50/p99 (ms).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#ifdef USE_LWIP
#include "lwip/sockets.h"
#define SOCK(f) lwip_##f
#define CLOSE lwip_close
#else
#include <unistd.h>
#define SOCK(f) f
#define CLOSE close
int run_transfer(int argc, char **argv);
int main(int argc, char **argv) { return run_transfer(argc - 1, argv + 1); }
#endif

#define CHUNK (256 * 1024)
#define RR_BYTES 32
#define RR_MAX 2000000

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static struct sockaddr_in address(const char *host, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

static int listener(struct sockaddr_in *a) {
  int l = SOCK(socket)(AF_INET, SOCK_STREAM, 0), one = 1;
  SOCK(setsockopt)(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (l < 0 || SOCK(bind)(l, (struct sockaddr *)a, sizeof *a) < 0 || SOCK(listen)(l, 16) < 0) {
    perror("listen");
    exit(1);
  }
  printf("ready\n");
  fflush(stdout);
  return l;
}

static int connected(const char *role, struct sockaddr_in *a) {
  if (strcmp(role, "listen") == 0) {
    int l = listener(a), c = SOCK(accept)(l, NULL, NULL);
    CLOSE(l);
    return c;
  }
  int c = SOCK(socket)(AF_INET, SOCK_STREAM, 0);
  if (c < 0 || SOCK(connect)(c, (struct sockaddr *)a, sizeof *a) < 0) {
    perror("connect");
    exit(1);
  }
  return c;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* One request/response connection; its latency in seconds, or -1. */
static double request(struct sockaddr_in *a) {
  char buf[RR_BYTES] = "request-response-request-respons";
  double start = now();
  int c = SOCK(socket)(AF_INET, SOCK_STREAM, 0), got = 0;
  if (c < 0 || SOCK(connect)(c, (struct sockaddr *)a, sizeof *a) < 0 || SOCK(send)(c, buf, RR_BYTES, 0) != RR_BYTES) got = -1;
  while (got >= 0 && got < RR_BYTES) {
    ssize_t n = SOCK(recv)(c, buf + got, RR_BYTES - got, 0);
    got = n > 0 ? got + (int)n : -1;
  }
  if (c >= 0) {
    /* Abortive close: no TIME-WAIT piling up in the client's namespace over the runs. */
    struct linger abort_close = { 1, 0 };
    SOCK(setsockopt)(c, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
    CLOSE(c);
  }
  return got == RR_BYTES ? now() - start : -1;
}

int run_transfer(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sink|source|echo|rr listen|connect HOST PORT SECONDS\n");
    return 2;
  }
  const char *mode = argv[0], *role = argv[1];
  struct sockaddr_in a = address(argv[2], atoi(argv[3]));
  double seconds = atof(argv[4]), first = 0, last = 0;
  long long count = 0;
  static char buf[CHUNK];
  if (strcmp(mode, "sink") == 0 || strcmp(mode, "source") == 0) {
    int c = connected(role, &a);
    if (mode[1] == 'i') {
      for (ssize_t n; (n = SOCK(recv)(c, buf, CHUNK, 0)) > 0; count += n) {
        if (count == 0) first = now();
      }
      last = now();
    } else {
      first = now();
      while (now() - first < seconds) {
        ssize_t n = SOCK(send)(c, buf, CHUNK, 0);
        if (n <= 0) break;
        count += n;
      }
      SOCK(shutdown)(c, SHUT_WR);
      while (SOCK(recv)(c, buf, CHUNK, 0) > 0) {}
      last = now();
    }
    CLOSE(c);
    printf("{\"bytes\":%lld,\"seconds\":%.6f,\"cpu\":%.6f}\n", count, last - first, cpu_seconds());
  } else if (strcmp(mode, "echo") == 0) {
    int l = listener(&a);
    for (;;) {
      int c = SOCK(accept)(l, NULL, NULL);
      for (ssize_t n; c >= 0 && (n = SOCK(recv)(c, buf, CHUNK, 0)) > 0;) SOCK(send)(c, buf, (size_t)n, 0);
      if (c >= 0) CLOSE(c);
    }
  } else if (strcmp(mode, "rr") == 0) {
    double *latency = malloc(sizeof(double) * RR_MAX);
    first = now();
    while (now() - first < seconds && count < RR_MAX) {
      double t = request(&a);
      if (t < 0) break;
      latency[count++] = t;
    }
    last = now();
    qsort(latency, (size_t)count, sizeof(double), cmp);
    double p50 = count ? latency[count / 2] * 1e3 : 0, p99 = count ? latency[count * 99 / 100] * 1e3 : 0;
    printf("{\"bytes\":%lld,\"seconds\":%.6f,\"cpu\":%.6f,\"p50\":%.4f,\"p99\":%.4f}\n", count, last - first, cpu_seconds(), p50, p99);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  fflush(stdout);
  return 0;
}
