"""The WSGI apps of serve's benchmark, one callable as every peer hosts it.

GET / is the hello (13 bytes), GET /10k answers 10 KiB, POST /echo answers its 10 KiB body.
"""

HELLO = b"Hello world!\n"
TEN_K = b"x" * 10240


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    elif path == "/10k":
        body = TEN_K
    else:
        body = HELLO
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
