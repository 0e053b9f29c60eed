// The end of `scalekit serve --help`: what the flags do not say, the endpoints
// and the master's signals. The man page is made from --help (cmake/cli_docs.sh),
// so this is what an installed scalekit documents.

#include "serve_checks.h"

namespace scalekit::cli {

std::string serve_footer() {
  return "Endpoints: / (the Mandelbrot explorer), /fleet (a live dashboard), "
         "GET /mandelbrot.png?w=&h=&n=&x0=&y0=&x1=&y1= (or ?z=&x=&y=&n=, a 256-px tile; &executor=), "
         "GET /primes?n=, POST /sort (a JSON array of integers), POST /thumbnail?w=&h= (an image in, a PNG "
         "out), GET /sleep?ms=, /healthz, /status (JSON), /metrics (Prometheus), /executors. With --wsgi, each "
         "app serves its --mount (SCRIPT_NAME) and the paths above stay the server's: /healthz, /status and "
         "/metrics always, the others where no app is mounted.\n\n"
         "Signals to the master: HUP reloads (new workers, with the apps' code imported again, accept before "
         "the old ones leave; requests under way finish); TERM or INT stops within --grace (requests under way "
         "are answered, idle keep-alive connections closed; a second INT stops at once); QUIT stops at once; "
         "TTIN and TTOU add or remove a worker; USR2 starts a new master from the binary on disk, which takes "
         "over the listening sockets (the old one leaves once the new workers accept, or keeps serving when the "
         "new master is not ready within --upgrade-timeout). A worker that dies is replaced; one whose request "
         "runs past --timeout answers 504 and is replaced, the master logging the request and, for a WSGI app, "
         "its Python traceback. systemd: socket activation (LISTEN_FDS) and sd_notify (READY, RELOADING).";
}

}  // namespace scalekit::cli
