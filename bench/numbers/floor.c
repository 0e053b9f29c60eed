/* The floor for `numbers sort`: the least a single-threaded program must do.
 * Opens, reads and closes every file numbers/numbers_<i>.txt, counts the
 * values (no validation beyond digits), writes them out sorted. No threads, no
 * checks: what `scalekit numbers sort --method counter` is measured against.
 *
 *   floor DIR FILES OUTPUT [MAX]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: floor DIR FILES OUTPUT [MAX]\n");
    return 2;
  }
  const char* dir = argv[1];
  const long files = atol(argv[2]);
  const long max = argc > 4 ? atol(argv[4]) : 100000;
  unsigned long* count = calloc((size_t)max + 1, sizeof *count);
  char path[4096], buf[65536];
  for (long i = 0; i < files; ++i) {
    snprintf(path, sizeof path, "%s/numbers_%ld.txt", dir, i);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 1;
    unsigned long v = 0;
    int in_number = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      for (ssize_t k = 0; k < n; ++k) {
        char c = buf[k];
        if (c >= '0' && c <= '9') {
          v = v * 10 + (unsigned long)(c - '0');
          in_number = 1;
        } else if (in_number) {
          if (v <= (unsigned long)max) count[v]++;
          v = 0;
          in_number = 0;
        }
      }
    }
    if (in_number && v <= (unsigned long)max) count[v]++;
    close(fd);
  }
  FILE* out = fopen(argv[3], "w");
  if (!out) return 1;
  for (long v = 0; v <= max; ++v)
    for (unsigned long k = 0; k < count[v]; ++k) fprintf(out, "%ld\n", v);
  return fclose(out) == 0 ? 0 : 1;
}
