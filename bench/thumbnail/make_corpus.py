# A deterministic corpus for the thumbnail benchmark: COUNT photos of mixed
# sizes (800x600 to 2400x1600), two thirds JPEG (quality 85), one third PNG,
# with detail everywhere (a Mandelbrot channel, gradients) so decoders work.
#   make_corpus.py DIR COUNT
import os
import sys

from PIL import Image

out, count = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
sizes = [(800, 600), (1024, 768), (1280, 960), (1600, 1200), (2048, 1536), (2400, 1600), (1200, 1600), (600, 800)]
for i in range(count):
    w, h = sizes[i % len(sizes)]
    x = -2.0 + (i % 7) * 0.1
    m = Image.effect_mandelbrot((w, h), (x, -1.2, x + 2.6, 1.2), 30)
    g = Image.linear_gradient('L').resize((w, h))
    r = Image.radial_gradient('L').resize((w, h))
    im = Image.merge('RGB', (m, g, r))
    if i % 3 == 2:
        im.save(f'{out}/img{i:04d}.png', compress_level=6)
    else:
        im.save(f'{out}/img{i:04d}.jpg', quality=85)
