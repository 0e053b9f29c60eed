# Per-image CPU cost of each kind of the mixed corpus (make_mixed_corpus.py),
# scalekit beside the seed's Pillow: the corpus's files split by kind (hard
# links, one directory each), then for each kind the CPU time (user + system)
# of `scalekit thumbnail DIR -j 1 --executor threads`, minus that of the same
# command on an empty directory (its start-up), and Pillow's in-process CPU
# for the seed's open/thumbnail/save; the best of ROUNDS, per image.
#   per_kind.py SCALEKIT CORPUS WORKDIR [ROUNDS]
import os
import shutil
import subprocess
import sys
import time

from PIL import Image

sk, corpus, work = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
# The kinds in make_mixed_corpus.py's order: file i is kind i % 12.
kinds = ['jpeg 4:2:0', 'jpeg 4:4:4', 'jpeg progressive', 'jpeg grey', 'jpeg exif-rotated', 'jpeg cmyk',
         'jpeg srgb-tagged', 'png rgb', 'png grey', 'png palette', 'png 16-bit grey', 'webp']
shutil.rmtree(work, ignore_errors=True)
dirs = [os.path.join(work, 'k%02d' % k) for k in range(len(kinds))]
for d in dirs + [os.path.join(work, 'empty')]:
    os.makedirs(d)
files = sorted(os.listdir(corpus))
for i, name in enumerate(files):
    os.link(os.path.join(corpus, name), os.path.join(dirs[i % len(kinds)], name))


def child_cpu(cmd):
    pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                                               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, _, ru = os.wait4(pid, 0)
    return ru.ru_utime + ru.ru_stime


def scalekit(d):
    out = os.path.join(work, 'out')
    shutil.rmtree(out, ignore_errors=True)
    return child_cpu([sk, '-q', 'thumbnail', d, '-o', out, '-j', '1', '--executor', 'threads'])


def pillow(d):
    out = os.path.join(work, 'pil')  # made afresh, as scalekit's: creating files costs ext4 CPU
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t0 = time.process_time()
    for name in sorted(os.listdir(d)):
        try:
            im = Image.open(os.path.join(d, name))
            im.thumbnail((64, 64), Image.LANCZOS)
            im.save(os.path.join(out, name.rsplit('.')[0] + '_thumb.png'))
        except Exception:
            pass  # CMYK: Pillow will not write it as PNG, after decoding it
    return time.process_time() - t0


start = min(scalekit(os.path.join(work, 'empty')) for _ in range(rounds))
print('scalekit start-up (empty directory): %.1f ms CPU' % (start * 1e3))
print('| kind | scalekit ms/image | Pillow ms/image | Pillow / scalekit |')
print('|---|---:|---:|---:|')
total_sk = total_pil = 0
for k, d in enumerate(dirs):
    n = len(os.listdir(d))
    s = (min(scalekit(d) for _ in range(rounds)) - start) / n
    p = min(pillow(d) for _ in range(rounds)) / n
    total_sk += s
    total_pil += p
    print('| %s | %.1f | %.1f | %.2fx |' % (kinds[k], s * 1e3, p * 1e3, p / s))
print('| all kinds (sum) | %.1f | %.1f | %.2fx |' % (total_sk * 1e3, total_pil * 1e3, total_pil / total_sk))
