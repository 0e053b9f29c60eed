# A second, deterministic corpus for the thumbnail benchmark: the variants a
# camera roll or a web crawl has, cycled over COUNT photos (800x600 to
# 2400x1600, detail everywhere as in make_corpus.py): JPEG 4:2:0, 4:4:4,
# progressive, greyscale, EXIF-rotated, CMYK and ICC-tagged; PNG RGB, grey,
# palette and 16-bit; lossy WebP.
#   make_mixed_corpus.py DIR COUNT
import os
import sys

from PIL import Image, ImageCms

out, count = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
sizes = [(800, 600), (1024, 768), (1280, 960), (1600, 1200), (2048, 1536), (2400, 1600), (1200, 1600), (600, 800)]
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()
rotated = Image.Exif()
rotated[0x0112] = 6


def photo(i):
    w, h = sizes[i % len(sizes)]
    x = -2.0 + (i % 7) * 0.1
    m = Image.effect_mandelbrot((w, h), (x, -1.2, x + 2.6, 1.2), 30)
    g = Image.linear_gradient('L').resize((w, h))
    r = Image.radial_gradient('L').resize((w, h))
    return Image.merge('RGB', (m, g, r))


kinds = [
    ('jpg', lambda im, p: im.save(p, quality=85)),  # 4:2:0
    ('jpg', lambda im, p: im.save(p, quality=90, subsampling=0)),  # 4:4:4
    ('jpg', lambda im, p: im.save(p, quality=85, progressive=True)),
    ('jpg', lambda im, p: im.convert('L').save(p, quality=85)),
    ('jpg', lambda im, p: im.transpose(Image.Transpose.ROTATE_90).save(p, quality=85, exif=rotated.tobytes())),
    ('jpg', lambda im, p: im.convert('CMYK').save(p, quality=85)),
    ('jpg', lambda im, p: im.save(p, quality=85, icc_profile=srgb)),
    ('png', lambda im, p: im.save(p, compress_level=6)),
    ('png', lambda im, p: im.convert('L').save(p, compress_level=6)),
    ('png', lambda im, p: im.convert('P', palette=Image.Palette.ADAPTIVE).save(p)),
    ('png', lambda im, p: im.convert('L').convert('I').save(p)),  # 16-bit grey
    ('webp', lambda im, p: im.save(p, quality=80)),
]
for i in range(count):
    ext, save = kinds[i % len(kinds)]
    save(photo(i), f'{out}/img{i:04d}.{ext}')
