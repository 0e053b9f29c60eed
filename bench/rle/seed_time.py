# Time the seed's compress_image inside Python (no interpreter start), with
# each of the seed's two pools, as the seed's chapter times it.
#   seed_time.py SEED_DIR IMAGE OUT RUNS
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

seed_dir, image, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, seed_dir)
import rle_compress  # noqa: E402  (the pools pickle its functions by module name)

for name, pool in (('ProcessPoolExecutor', ProcessPoolExecutor), ('ThreadPoolExecutor', ThreadPoolExecutor)):
    times = []
    for _ in range(runs):
        with pool() as executor:
            t = time.perf_counter()
            rle_compress.compress_image(image, out, executor)
            times.append(time.perf_counter() - t)
    times.sort()
    print(f'{name} {times[len(times) // 2]:.3f}')
