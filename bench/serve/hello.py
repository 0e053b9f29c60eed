"""The WSGI hello of serve's benchmark: 13 bytes, as the issue's peers serve it."""


def app(environ, start_response):
    body = b"Hello world!\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
