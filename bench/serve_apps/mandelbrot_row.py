"""One row of the seed's Mandelbrot image as a PNG, in pure Python: the peer of
`scalekit serve`'s GET /mandelbrot.png?w=640&h=1&... in bench/serve_apps/run.sh.

GET /?y=240&w=640&h=480&n=1000: row y of the w x h image, the seed's loop
(mandelbrot_calc_row in tests/fixtures/seed/mandelbrot.py) and colours, as a
w x 1 RGB PNG (zlib at its default level, as a server would send it).
"""
import struct
import zlib
from urllib.parse import parse_qs


def row(y, w, h, max_iteration):
    y0 = y * (2 / float(h)) - 1
    out = bytearray()
    for x in range(w):
        x0 = x * (3.5 / float(w)) - 2.5
        i, z = 0, 0 + 0j
        c = complex(x0, y0)
        while abs(z) < 2 and i < max_iteration:
            z = z**2 + c
            i += 1
        out += bytes((i % 8 * 32, i % 16 * 16, i % 32 * 8))
    return bytes(out)


def png(width, height, rgb_rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + r for r in rgb_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def app(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    get = lambda name, default: int(q.get(name, [default])[0])
    w, h = get("w", 640), get("h", 480)
    body = png(w, 1, [row(get("y", h // 2), w, h, get("n", 1000))])
    start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(body)))])
    return [body]
