/*
 * Runs one batch of native/uring.h on a pipe and prints what came of it as
 * JSON, for test/native/uring.test.ts (built with failingUring.h, which
 * makes io_uring_enter() fail as EUK_TEST_URING_FAIL says).
 *
 *   uringRun write COUNT   uring_writev() of COUNT 8-byte chunks into the pipe:
 *                          {"done","err","ringFailed","inPipe","ringEmpty"}
 *   uringRun read COUNT    COUNT chunks put in the pipe, then uring_readv() of
 *                          COUNT 8-byte reads: {"results","ringFailed","inPipe","ringEmpty"}
 *                          (a result that did not run is null)
 *
 * Its first io_uring_enter() is a probe (uring_usable), the batch the ones
 * after. Prints {"skip": why} where io_uring cannot be used.
 */
#include "../../native/uring.h"
#include <fcntl.h>
#include <stdio.h>

/* Bytes per chunk: "chunkNN" and its NUL. */
#define CHUNK 8

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  unsigned count = (unsigned)atoi(argv[2]);
  if (count == 0 || count > URING_BATCH) return 2;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_NONBLOCK) != 0) return 1;
  uring *r = uring_open();
  if (r == NULL || !uring_usable(r, pipe_fds[0])) {
    puts("{\"skip\":\"io_uring is unavailable here\"}");
    return 0;
  }
  static char chunks[URING_BATCH][CHUNK];
  uring_io io[URING_BATCH];
  for (unsigned i = 0; i < count; i++) {
    snprintf(chunks[i], CHUNK, "chunk%02u", i % 100);
    io[i].parts[0].iov_base = chunks[i];
    io[i].parts[0].iov_len = CHUNK;
    io[i].count = 1;
  }
  if (!strcmp(argv[1], "write")) {
    int err, ring_failed;
    unsigned done = uring_writev(r, pipe_fds[1], io, count, &err, &ring_failed);
    char sink[CHUNK * URING_BATCH];
    ssize_t in_pipe = read(pipe_fds[0], sink, sizeof sink);
    printf("{\"done\":%u,\"err\":%d,\"ringFailed\":%d,\"inPipe\":%zd,\"ringEmpty\":%s}\n", done, err, ring_failed,
           in_pipe < 0 ? 0 : in_pipe / CHUNK, *r->sq_head == *r->sq_tail ? "true" : "false");
    return 0;
  }
  for (unsigned i = 0; i < count; i++)
    if (write(pipe_fds[1], chunks[i], CHUNK) != CHUNK) return 1;
  int results[URING_BATCH];
  int ring_failed = uring_readv(r, pipe_fds[0], io, count, results);
  char rest[CHUNK * URING_BATCH];
  ssize_t in_pipe = read(pipe_fds[0], rest, sizeof rest);
  printf("{\"results\":[");
  for (unsigned i = 0; i < count; i++) {
    if (results[i] == URING_NOT_RUN) printf("%snull", i ? "," : "");
    else printf("%s%d", i ? "," : "", results[i]);
  }
  printf("],\"ringFailed\":%d,\"inPipe\":%zd,\"ringEmpty\":%s}\n", ring_failed, in_pipe < 0 ? 0 : in_pipe / CHUNK,
         *r->sq_head == *r->sq_tail ? "true" : "false");
  return 0;
}
