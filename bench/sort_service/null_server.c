/* The ceiling for the sort-service benchmark: a server that does nothing but
 * the protocol's I/O. One thread, blocking calls: accept, read the 8-byte
 * length and the body, answer "[]", close. No JSON, no sorting, no event
 * loop: what the kernel's connection handling alone allows on this machine.
 *
 *   null_server PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int read_full(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: null_server PORT\n");
    return 2;
  }
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0 || listen(s, 1024) != 0) {
    perror("null_server");
    return 1;
  }
  static char body[1 << 24];
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    unsigned char h[8];
    if (read_full(c, (char*)h, 8) == 0) {
      uint64_t len = 0;
      for (int i = 0; i < 8; ++i) len = len << 8 | h[i];
      if (len <= sizeof body && read_full(c, body, len) == 0) (void)!write(c, "[]", 2);
    }
    close(c);
  }
}
