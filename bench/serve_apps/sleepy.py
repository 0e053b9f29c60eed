"""A WSGI app that sleeps 10 ms and answers 3 bytes: waiting, not computing
(a database or another service behind it), for bench/serve_apps/run.sh."""
import time


def app(environ, start_response):
    time.sleep(0.010)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]
