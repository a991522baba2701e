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
"""

import argparse
import io
import logging
import os
import signal
import sys
import threading
import warnings

# Quiet moto's import-time warnings (e.g. about optional dependencies): they are noise in every test's output.
warnings.filterwarnings("ignore")

from werkzeug.serving import make_server  # noqa: E402

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

# Backends the civicsnap stack uses. Building a backend app imports its moto module, which takes a second or
# two; doing it before the ready line keeps that latency out of the first request (and out of test timeouts).
DEFAULT_WARM = "dynamodb,dynamodbstreams,s3,sqs"

READY_PREFIX = "moto ready"


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


def keep_stream_shards_on_rollback():
    """Patch moto's TransactWriteItems: keep each table's stream shard object on a rollback, and take one
    backup copy per table rather than one per item.

    moto rolls a cancelled transaction back by replacing the whole table with a deep copy taken before it,
    stream shard included. Shard iterators already handed out hold the old shard object, so every stream
    reader (the local event source mappings) would stop seeing new records after the first cancelled
    transaction. Real DynamoDB has no such effect. After moto's rollback, the original shard is put back on
    the restored table, less the records of the writes that were rolled back.
    """
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class OneCopyPerTable:
        """Stands in for the copy module inside one transaction: moto deep-copies a table once per item
        that touches it, all before the first write, so one copy per table is the same backup for a
        fraction of the time (a 10-item transaction on a big table copied it 10 times)."""

        def __init__(self):
            self.tables = {}

        def deepcopy(self, value, memo=None):
            if isinstance(value, Table):
                if id(value) not in self.tables:
                    # The stream shard is left out of the backup: it only grows (every write appends a
                    # record with both images), so copying it made each transaction slower than the last,
                    # and the rollback below puts the original shard back anyway.
                    shard, value.stream_shard = value.stream_shard, None
                    try:
                        self.tables[id(value)] = copy.deepcopy(value)
                    finally:
                        value.stream_shard = shard
                return self.tables[id(value)]
            return copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(copy, name)

    def transact_write_items(self, transact_items):
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        dynamodb_models.copy = OneCopyPerTable()
        try:
            return original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                table = self.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    # the restored backup has no shard of its own: give it back the original
                    del shard.items[length:]
                    shard.table = table
                    table.stream_shard = shard
            raise
        finally:
            dynamodb_models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items


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
    return parser.parse_args(argv)


def stop_on_signal(signum, frame):
    # serve_forever runs in the main thread, which is where Python delivers signals: raising here unwinds it.
    # shutdown() would deadlock, because it waits for serve_forever in this very thread to notice.
    raise SystemExit(0)


def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    if os.environ.get("MOTO_SERVE_LOG_REQUESTS") != "1":
        # werkzeug logs every request at INFO; keep warnings and errors (tracebacks of moto failures).
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    keep_stream_shards_on_rollback()

    app = DomainDispatcherApplication(create_backend_app)
    for name in filter(None, (s.strip() for s in args.warm.split(","))):
        app.app_instances[name] = create_backend_app(name)

    # threaded=True although requests are serialized anyway: werkzeug then speaks HTTP/1.1, so clients keep
    # their connections alive, and a client holding an idle keep-alive connection cannot block the accept
    # loop for everybody else (the unthreaded server serves one connection until it closes). The lock in
    # Serialized, not the server, decides what runs concurrently.
    server = make_server(
        args.host,
        args.port,
        Serialized(app),
        threaded=True,
        request_handler=MotoRequestHandler,
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
    sys.exit(main())
