"""Serve moto (DynamoDB, DynamoDB Streams, S3, SQS, ...) on loopback, one request at a time.

Usage: .venv/bin/python infra/moto/serve.py --host 127.0.0.1 --port 0

This is the app that `moto_server` serves (DomainDispatcherApplication around create_backend_app), with one
difference: every request is applied under a single lock. moto's stock threaded server runs requests
concurrently against shared in-memory state, and its TransactWriteItems deep-copies every table it touches
and restores that copy when the transaction is cancelled: a concurrent write that landed in between is
silently lost. Tests that prove conditional-write correctness need the real service's per-item
serializability; one global lock is the simplest thing that gives it.

When the listening socket is bound, the script prints one line to stdout:

    moto ready http://HOST:PORT

(PORT is the bound port, so --port 0 picks a free one without a race.) Connections made after that line are
accepted by the kernel even before the first request is served.

SIGTERM and SIGINT stop it cleanly (exit status 0). With --exit-on-stdin-eof it also stops when its stdin
closes, so a parent that dies without cleaning up does not leave moto behind.

Requests are not logged unless MOTO_SERVE_LOG_REQUESTS=1; errors always are.

moto itself is patched before the first request by infra/moto/patches.py (queries through per-partition
indexes, transactions backed up by the items they touch, stream records and shard iterators that expire, no
model object kept forever; each patch's docstring says what and why). The patches are written for one moto
version and refuse to start on another unless --any-moto-version is given. --without-patch NAME (repeatable)
leaves one out, so a test can show what it fixes.
"""

import argparse
import gc
import io
import logging
import os
import signal
import socket
import sys
import threading
import traceback
import warnings

# Quiet moto's import-time warnings (e.g. about optional dependencies): they are noise in every test's output.
warnings.filterwarnings("ignore")

from werkzeug.exceptions import InternalServerError  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

import patches  # noqa: E402  (infra/moto/patches.py, beside this script)

# Backends the civicsnap stack uses. Building a backend app imports its moto module, which takes a second or
# two; doing it before the ready line keeps that latency out of the first request (and out of test timeouts).
DEFAULT_WARM = "dynamodb,dynamodbstreams,s3,sqs"

READY_PREFIX = "moto ready"

_werkzeug_log = logging.getLogger("werkzeug")


class Serialized:
    """WSGI middleware that runs the wrapped app for one request at a time.

    The lock covers the whole call *and* the consumption of the response iterable: Flask/werkzeug responses
    may be lazy, and moto could otherwise still be reading shared state while the next request mutates it.
    The request body is read before taking the lock, and the response is written to the socket after
    releasing it, so a slow client cannot stall everyone else.

    The lock is not reentrant: a moto handler that made an HTTP request back to this same server would
    deadlock. None of the backends civicsnap uses (DynamoDB, Streams, S3, SQS) do that.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        self._buffer_body(environ)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]

    @staticmethod
    def _buffer_body(environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if length > 0:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler, answering over HTTP/1.1 connections that stay open.

    werkzeug's development server ends every response with "Connection: close" (its run_wsgi says http.server
    cannot drain a request body before the next request line) and then waits for the client to hang up. So
    every SDK call was a new TCP connection and a new server thread: ~80 connections a second in TIME-WAIT
    during `make demo`, a thread start and a handshake per call. This handler reads each request's body
    completely before the app sees it (Content-Length or chunked), so the connection is always at the next
    request line afterwards, and writes status line, headers and body in one send with TCP_NODELAY (two
    small writes on a kept-alive connection would meet Nagle's algorithm and the client's delayed ACK: 40 ms
    stalls). The connection is closed only when the client asks (Connection: close, HTTP/1.0), the request
    is malformed, or the app's Content-Length disagrees with its body.

    An exception escaping the app (Flask answers handler errors itself) is answered with a 500 and its
    traceback logged to stderr, as werkzeug does; a response is never cut short after its status line.
    """

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code="-", size="-"):
        # werkzeug formats every request line (IRI decoding, ANSI colours) before its logger drops it at
        # the WARNING level serve.py sets: 1.6 % of moto's CPU for nothing unless requests are logged
        if _werkzeug_log.isEnabledFor(logging.INFO):
            super().log_request(code, size)

    def _read_body(self, environ):
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput reads to the last chunk
            return environ["wsgi.input"].read()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client hung up mid-body
            self.close_connection = True
        return body

    def run_wsgi(self):
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        body = self._read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)

        response = {}
        written = []

        def start_response(status, headers, exc_info=None):
            response["status"], response["headers"] = status, headers
            return written.append  # the legacy write() callable: its data goes before the body

        try:
            result = self.server.app(environ, start_response)
            try:
                payload = b"".join(written) + b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            if self.server.passthrough_errors:
                raise
            self.server.log("error", "Error on request:\n%s", traceback.format_exc())
            response.clear()
            written.clear()
            payload = b"".join(InternalServerError()(environ, start_response))
        self._send(response["status"], response["headers"], payload)

    def _send(self, status, headers, payload):
        code_str, _, message = status.partition(" ")
        code = int(code_str)
        bodiless = self.command == "HEAD" or 100 <= code < 200 or code in (204, 304)
        lines = [f"{self.protocol_version} {code} {message}\r\n",
                 f"Server: {self.version_string()}\r\n", f"Date: {self.date_time_string()}\r\n"]
        length = None
        for key, value in headers:
            lines.append(f"{key}: {value}\r\n")
            if key.lower() == "content-length":
                length = value
        if bodiless:
            payload = b""
        elif length is None:
            lines.append(f"Content-Length: {len(payload)}\r\n")
        elif length.strip() != str(len(payload)):
            self.close_connection = True  # the client reads the body to the end of the connection
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1") + payload)
        self.log_request(code, len(payload))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    parser.add_argument(
        "--warm",
        default=DEFAULT_WARM,
        help=f"comma-separated moto backends to load before ready (default {DEFAULT_WARM})",
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when stdin reaches EOF (the parent closed it or died)",
    )
    # moto patches (infra/moto/patches.py)
    parser.add_argument(
        "--without-patch",
        action="append",
        default=[],
        metavar="NAME",
        choices=list(patches.PATCHES),
        help="leave one moto patch out (repeatable); one of: " + ", ".join(patches.PATCHES),
    )
    parser.add_argument(
        "--any-moto-version",
        action="store_true",
        help=f"apply the patches although moto is not {patches.MOTO_VERSION} (or set {patches.ANY_VERSION_ENV}=1)",
    )
    parser.add_argument(
        "--stream-retention",
        type=float,
        default=patches.stream_retention_seconds,
        metavar="SECONDS",
        help="how long stream records stay readable (default 86400: DynamoDB's 24 hours)",
    )
    parser.add_argument(
        "--shard-iterator-lifetime",
        type=float,
        default=patches.shard_iterator_lifetime_seconds,
        metavar="SECONDS",
        help="how long a shard iterator is valid after it was issued (default 900: DynamoDB's 15 minutes)",
    )
    # civicsnap state (infra/moto/state.py): the save/load routes exist only with --state-dir.
    parser.add_argument("--state-dir", help="serve POST /_civicsnap/state/save and /load on this directory")
    return parser.parse_args(argv)


def with_state_routes(serialized, state_dir):
    """civicsnap state (infra/moto/state.py): save/load routes in front of moto, under Serialized's lock."""
    if not state_dir:
        return serialized
    import state  # infra/moto/state.py, beside this script

    return state.StateRoutes(serialized, serialized.lock, state_dir)


def patch_moto(args):
    """Applies infra/moto/patches.py as the flags say; returns the names of the patches applied."""
    patches.stream_retention_seconds = args.stream_retention
    patches.shard_iterator_lifetime_seconds = args.shard_iterator_lifetime
    return patches.apply(without=args.without_patch, any_version=args.any_moto_version)


def tune_gc():
    """Keeps the garbage collector off what never becomes garbage.

    moto's heap is mostly long-lived: the modules, botocore's service models and moto's backends once warm,
    then the stored items. Python's collector still walks all of it on every full collection: a demo month
    made 12 of them at ~0.5 s each (6 s of moto's 148 s of CPU). After the warm-up everything alive is
    moved to the permanent generation (gc.freeze: never walked again; what is in it is still freed by
    reference counting), which cut that to 1 s. state.load freezes what it loaded the same way. (A larger
    young generation was tried and measured slower: 20,000 instead of 700 objects per young collection
    doubled its cost, the young objects no longer fitting the CPU's caches.)
    """
    gc.collect()
    gc.freeze()


def stop_on_signal(signum, frame):
    # serve_forever runs in the main thread, which is where Python delivers signals: raising here unwinds it.
    # shutdown() would deadlock, because it waits for serve_forever in this very thread to notice.
    raise SystemExit(0)


def watch_stdin():
    # os.read on the descriptor, not sys.stdin.buffer: this daemon thread is still blocked in the read when
    # the interpreter shuts down, and the buffered reader's lock then ends the process with "Fatal Python
    # error: _enter_buffered_busy: could not acquire lock for <stdin>" (SIGABRT) instead of exit status 0.
    try:
        fd = sys.stdin.fileno()
        while os.read(fd, 4096):
            pass
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    # werkzeug logs every request at INFO; unless asked, keep warnings and errors (tracebacks of moto failures).
    _werkzeug_log.setLevel(logging.INFO if os.environ.get("MOTO_SERVE_LOG_REQUESTS") == "1" else logging.WARNING)

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        applied = patch_moto(args)
    except RuntimeError as err:  # moto is not the version the patches were written for
        print(f"serve.py: {err}", file=sys.stderr)
        return 2
    if os.environ.get("MOTO_SERVE_LOG_REQUESTS") == "1":
        print(f"serve.py: moto patches applied: {', '.join(applied) or 'none'}", file=sys.stderr)

    app = DomainDispatcherApplication(create_backend_app)
    for name in filter(None, (s.strip() for s in args.warm.split(","))):
        app.app_instances[name] = create_backend_app(name)
    tune_gc()

    # threaded=True although requests are serialized anyway: a thread per connection, so a client holding an
    # idle keep-alive connection (KeepAliveHandler) cannot block the accept loop for everybody else. The
    # lock in Serialized, not the server, decides what runs concurrently.
    server = make_server(
        args.host,
        args.port,
        with_state_routes(Serialized(app), args.state_dir),
        threaded=True,
        request_handler=KeepAliveHandler,
    )
    # Some moto backends build URLs that point back at the server (e.g. Lambda env, presigned URLs).
    os.environ["MOTO_PORT"] = str(server.port)

    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    print(f"{READY_PREFIX} http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    status = main()
    # Leave without the interpreter's teardown: freeing every object of a full moto one by one took longer
    # than motoserver's 5 s grace after SIGTERM at `make scale`'s size (2 GB), and there is nothing left to
    # do — a state save happens before the stop, through its own route.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
