/*
 * lwIP (Debian liblwip-dev, socket API) on a TAP device, for bench/tcp.ts:
 *
 *   lwip_tap TAP ADDRESS PREFIX MODE ROLE HOST PORT SECONDS
 *
 * creates the TAP, prints "open", waits for a line on stdin (the bench moves
 * the TAP into its namespace meanwhile) and runs transfer.c's run_transfer.
 *
 * Our own TAP driver rather than lwIP's tapif, whose pbuf pool is sized for
 * MSS 536 and overruns on any frame over ~600 bytes: a thread reads each
 * frame into a PBUF_RAM pbuf and hands it to tcpip_input; output writes the
 * (single, LWIP_NETIF_TX_SINGLE_PBUF) pbuf with one write().
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"

int run_transfer(int argc, char **argv);

#define FRAME_MAX 1518

static int tap_fd = -1;

static err_t tap_output(struct netif *netif, struct pbuf *p) {
  (void)netif;
  static char frame[FRAME_MAX];
  u16_t n = pbuf_copy_partial(p, frame, sizeof frame, 0);
  return write(tap_fd, p->next == NULL ? p->payload : frame, p->next == NULL ? p->len : n) < 0 ? ERR_IF : ERR_OK;
}

static err_t tap_init(struct netif *netif) {
  static const u8_t mac[6] = { 0x02, 0x00, 0x00, 0x1a, 0xb1, 0x01 };
  memcpy(netif->hwaddr, mac, 6);
  netif->hwaddr_len = 6;
  netif->mtu = 1500;
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  netif->output = etharp_output;
  netif->linkoutput = tap_output;
  return ERR_OK;
}

static void *reader(void *arg) {
  struct netif *netif = arg;
  char frame[FRAME_MAX + 4];
  for (;;) {
    ssize_t n = read(tap_fd, frame, sizeof frame);
    if (n <= 0) continue;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    if (p == NULL) continue;
    pbuf_take(p, frame, (u16_t)n);
    if (netif->input(p, netif) != ERR_OK) pbuf_free(p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: lwip_tap TAP ADDRESS PREFIX MODE ROLE HOST PORT SECONDS\n");
    return 2;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if ((tap_fd = open("/dev/net/tun", O_RDWR)) < 0 || ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
    perror("TAP");
    return 1;
  }
  tcpip_init(NULL, NULL);
  ip4_addr_t address, mask, gateway;
  ip4addr_aton(argv[2], &address);
  ip4_addr_set_u32(&mask, lwip_htonl(0xffffffffu << (32 - atoi(argv[3]))));
  ip4_addr_set_zero(&gateway);
  static struct netif netif;
  LOCK_TCPIP_CORE();
  netif_add(&netif, &address, &mask, &gateway, NULL, tap_init, tcpip_input);
  netif_set_default(&netif);
  netif_set_up(&netif);
  UNLOCK_TCPIP_CORE();
  pthread_t thread;
  pthread_create(&thread, NULL, reader, &netif);
  printf("open\n");
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) return 1;
  return run_transfer(argc - 4, argv + 4);
}
