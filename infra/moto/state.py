"""Save and load moto's in-memory state: DynamoDB items, S3 objects, SQS messages.

serve.py mounts StateRoutes in front of moto's app when it is started with --state-dir DIR:

    POST /_civicsnap/state/save   write everything to DIR (atomically), answer a JSON summary
    POST /_civicsnap/state/load   apply DIR's saved state to the resources that already exist

Both run under serve.py's global lock, so no moto request sees a half-saved or half-loaded state. The
directory comes from the command line only: a request cannot make moto read or write anywhere else.

Layout of DIR:

    manifest.json        the commit point: format, version, what was saved, and the size and SHA-256 of
                         every file of the snapshot
    data-<id>/           the snapshot manifest.json names
      dynamodb/<account>/<region>/<table>.jsonl     one item a line, in DynamoDB JSON (the wire format)
      s3/<account>/<bucket>.jsonl                   one object a line: key, metadata, offset and size in…
      s3/<account>/<bucket>.data                    …the objects' bytes, one after another
      sqs/<account>/<region>/<queue>.jsonl          one message a line, with its receive count and timers

A save writes a new data-<id>/ (first as .tmp-data-<id>/, fsynced, then renamed), then replaces
manifest.json by rename, and only then removes older snapshots. A crash at any point leaves manifest.json
naming a complete snapshot: the previous one or the new one. Files manifest.json does not name are
leftovers of an interrupted save; the next save removes them.

A load checks the manifest's format and version and every file's size and SHA-256 before it changes
anything, and refuses (HTTP 422, code state_version or state_corrupt) rather than loading part of a
state. Saved resources that the running stack does not have are refused too (409, state_mismatch): the
template changed; the operator decides (`make reset`), nothing is dropped silently.

Items are loaded through moto's own Table.put_item, so whatever hooks it (query indexes) sees them, with
the table's stream shard detached meanwhile: the load is not a burst of INSERT records, and stream readers
positioned afterwards start at LATEST.

Every version of an S3 object is saved, oldest first, with its version id, and loaded back under that id:
reports record the version of each photo that was checked (issue 11), so a version that came back under
another id would be one no report points to.

What is not saved: the streams' records, S3 deletion markers, tags and ACLs of objects, multipart uploads
in progress, and every service civicsnap does not persist (Secrets Manager and the seed are written again at
each start).
"""

import base64
import datetime
import gc
import hashlib
import json
import os
import shutil
import sys
import time
import uuid

FORMAT = "civicsnap-moto-state"
VERSION = 1

SAVE_PATH = "/_civicsnap/state/save"
LOAD_PATH = "/_civicsnap/state/load"

MANIFEST = "manifest.json"

# Test hook: with CIVICSNAP_STATE_TEST_CRASH=before-commit, moto exits abruptly after writing a snapshot's
# data and before committing its manifest, as if it had been killed mid-save. The Go tests use it to prove
# that an interrupted save leaves the previous state intact and that the caller hears of the crash.
CRASH_ENV = "CIVICSNAP_STATE_TEST_CRASH"


class StateError(Exception):
    status = "500 Internal Server Error"
    code = "state_error"


class StateVersion(StateError):
    status = "422 Unprocessable Entity"
    code = "state_version"


class StateCorrupt(StateError):
    status = "422 Unprocessable Entity"
    code = "state_corrupt"


class StateMismatch(StateError):
    status = "409 Conflict"
    code = "state_mismatch"


class StateRoutes:
    """WSGI middleware: answers the two state routes itself, under lock, and hands every other request to
    app. lock must be the lock serve.py's Serialized applies every moto request under."""

    def __init__(self, app, lock, state_dir):
        self.app = app
        self.lock = lock
        self.state_dir = os.path.abspath(state_dir)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in (SAVE_PATH, LOAD_PATH):
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "use POST", "code": "method"})
        try:
            with self.lock:
                summary = save(self.state_dir) if path == SAVE_PATH else load(self.state_dir)
        except StateError as e:
            return _json(start_response, e.status, {"error": str(e), "code": e.code})
        except Exception as e:  # noqa: BLE001 - the caller needs the reason, not a dropped connection
            print(f"civicsnap state: {path} failed: {e!r}", file=sys.stderr, flush=True)
            return _json(start_response, StateError.status, {"error": f"{type(e).__name__}: {e}", "code": StateError.code})
        return _json(start_response, "200 OK", summary)


def _json(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


# ---- save ----------------------------------------------------------------------------------------------


def save(state_dir):
    """Write every DynamoDB item, S3 object and SQS message to a new snapshot under state_dir and commit
    it. Returns the summary (also stored in the manifest)."""
    started = time.monotonic()
    os.makedirs(state_dir, exist_ok=True)
    snapshot_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    name = "data-" + snapshot_id
    tmp = os.path.join(state_dir, ".tmp-" + name)
    final = os.path.join(state_dir, name)
    committed = False
    try:
        files = _Files(tmp)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "savedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "moto": _moto_version(),
            "data": name,
            "dynamodb": _save_dynamodb(files),
            "s3": _save_s3(files),
            "sqs": _save_sqs(files),
        }
        manifest["files"] = files.done()
        os.rename(tmp, final)
        _fsync_dir(state_dir)
        if os.environ.get(CRASH_ENV) == "before-commit":
            print("civicsnap state: test crash before commit (" + CRASH_ENV + ")", file=sys.stderr, flush=True)
            os._exit(70)
        manifest["summary"] = _summary(manifest, started)
        _write_atomic(os.path.join(state_dir, MANIFEST), json.dumps(manifest, indent=1).encode())
        committed = True
    finally:
        if not committed:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
    _remove_stale(state_dir, keep=name)
    summary = manifest["summary"]
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary


class _Files:
    """Creates the snapshot's files and records each one's size and SHA-256 for the manifest."""

    def __init__(self, root):
        self.root = root
        self.entries = {}
        os.makedirs(root)

    def create(self, rel):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return _HashingFile(self, rel, path)

    def done(self):
        for dirpath, _, _ in os.walk(self.root):
            _fsync_dir(dirpath)
        return self.entries


class _HashingFile:
    def __init__(self, files, rel, path):
        self.files, self.rel = files, rel
        self.f = open(path, "wb", buffering=1 << 20)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        self.f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        if exc_type is None:
            self.files.entries[self.rel] = {"bytes": self.size, "sha256": self.sha.hexdigest()}


def _lines(out, records, encode):
    """Writes one JSON document a line, in chunks (one write per line is measurably slower)."""
    chunk, count = [], 0
    for record in records:
        chunk.append(encode(record))
        count += 1
        if len(chunk) == 2000:
            out.write(b"".join(chunk))
            chunk = []
    if chunk:
        out.write(b"".join(chunk))
    return count


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_bytes_default).encode() + b"\n"


def _bytes_default(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(value).decode()}
    raise TypeError(f"cannot save a {type(value).__name__}")


def _undo_bytes(value):
    if isinstance(value, dict):
        if len(value) == 1 and "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        return {k: _undo_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_undo_bytes(v) for v in value]
    return value


def _backends(backend_dict):
    """(account, region-or-partition, backend) for every backend moto has created."""
    for account, regional in list(backend_dict.items()):
        for region, backend in list(regional.items()):
            yield account, region, backend


def _save_dynamodb(files):
    from moto.dynamodb.models import dynamodb_backends

    out = []
    for account, region, backend in _backends(dynamodb_backends):
        for name, table in list(backend.tables.items()):
            rel = f"dynamodb/{account}/{region}/{name}.jsonl"
            with files.create(rel) as f:
                n = _lines(f, _table_items(table), _item_line)
            out.append({"account": account, "region": region, "table": name, "file": rel, "items": n})
    return out


def _table_items(table):
    for partition in table.items.values():
        if table.range_key_attr is not None:
            yield from partition.values()
        else:
            yield partition


def _item_line(item):
    return _dumps({k: _wire(v) for k, v in item.attrs.items()})


def _wire(value):
    """A moto DynamoType as DynamoDB JSON, exactly what a PutItem request carries (binary in base64)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not isinstance(value, DynamoType):
        return value  # already a wire-format dict (moto keeps some nested values that way)
    t, v = value.type, value.value
    if t == "M":
        return {"M": {k: _wire(x) for k, x in v.items()}}
    if t == "L":
        return {"L": [_wire(x) for x in v]}
    if t == "B":
        return {"B": _b64(v)}
    if t == "BS":
        return {"BS": [_b64(x) for x in v]}
    return {t: v}


def _b64(v):
    return base64.b64encode(v).decode() if isinstance(v, (bytes, bytearray)) else v


def _save_s3(files):
    from moto.s3.models import FakeKey, s3_backends

    out = []
    for account, partition, backend in _backends(s3_backends):
        for name, bucket in list(backend.buckets.items()):
            index_rel, data_rel = f"s3/{account}/{name}.jsonl", f"s3/{account}/{name}.data"
            objects = total = 0
            with files.create(index_rel) as index, files.create(data_rel) as data:
                for key_name, versions in bucket.keys.lists():
                    for key in versions:  # oldest first, as they are loaded back
                        if not isinstance(key, FakeKey):
                            continue  # a deletion marker
                        value = key.value
                        index.write(_dumps({
                            "key": key_name,
                            "versionId": key._version_id,  # None in a bucket that keeps no versions
                            "offset": total,
                            "size": len(value),
                            "metadata": dict(key.metadata),
                            "lastModified": key.last_modified.isoformat(),
                            "etag": key.etag.strip('"'),
                            "storageClass": key.storage_class,
                            "checksumAlgorithm": key.checksum_algorithm,
                            "checksumValue": key.checksum_value,
                        }))
                        data.write(value)
                        total += len(value)
                        objects += 1
            out.append({"account": account, "partition": partition, "bucket": name, "index": index_rel,
                        "data": data_rel, "objects": objects, "bytes": total})
    return out


def _save_sqs(files):
    from moto.sqs.models import sqs_backends

    out = []
    for account, region, backend in _backends(sqs_backends):
        for name, queue in list(backend.queues.items()):
            rel = f"sqs/{account}/{region}/{name}.jsonl"
            with files.create(rel) as f:
                n = _lines(f, list(queue._messages), _message_line)
            out.append({"account": account, "region": region, "queue": name, "file": rel, "messages": n})
    return out


def _message_line(m):
    return _dumps({
        "id": m.id,
        "body": m.body,
        "messageAttributes": m.message_attributes,
        "systemAttributes": m.system_attributes,
        "senderId": m.sender_id,
        "sentTimestamp": m.sent_timestamp,
        "firstReceiveTimestamp": m.approximate_first_receive_timestamp,
        "receiveCount": m.approximate_receive_count,
        # Absolute times in ms: a message in flight or backing off stays invisible until its time comes,
        # as in SQS; one whose time passed while the stack was down is visible at once.
        "visibleAt": m.visible_at,
        "delayedUntil": m.delayed_until,
        "groupId": m.group_id,
        "deduplicationId": m.deduplication_id,
        "sequenceNumber": m.sequence_number,
    })


def _summary(manifest, started):
    files = manifest["files"].values()
    return {
        "found": True,
        "savedAt": manifest["savedAt"],
        "tables": [{"table": t["table"], "items": t["items"]} for t in manifest["dynamodb"]],
        "items": sum(t["items"] for t in manifest["dynamodb"]),
        "objects": sum(b["objects"] for b in manifest["s3"]),
        "objectBytes": sum(b["bytes"] for b in manifest["s3"]),
        "messages": sum(q["messages"] for q in manifest["sqs"]),
        "bytes": sum(f["bytes"] for f in files),
        "seconds": round(time.monotonic() - started, 3),
    }


def _write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename is still atomic
    finally:
        os.close(fd)


def _remove_stale(state_dir, keep):
    for entry in os.listdir(state_dir):
        if entry == keep:
            continue
        if entry.startswith(("data-", ".tmp-")) or entry == MANIFEST + ".tmp":
            path = os.path.join(state_dir, entry)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.remove(path)
                except OSError:
                    pass


def _moto_version():
    try:
        import moto

        return moto.__version__
    except Exception:  # noqa: BLE001
        return "unknown"


# ---- load ----------------------------------------------------------------------------------------------


def load(state_dir):
    """Apply the committed snapshot under state_dir. Returns {"found": false} when nothing was ever
    committed there; raises StateVersion, StateCorrupt or StateMismatch, before changing anything, when the
    snapshot cannot be applied whole."""
    started = time.monotonic()
    manifest_path = os.path.join(state_dir, MANIFEST)
    try:
        with open(manifest_path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {"found": False, "dir": state_dir}
    manifest = _check_manifest(manifest_path, raw)
    data_dir = os.path.join(state_dir, manifest["data"])
    _verify_files(manifest_path, data_dir, manifest["files"])
    targets = _targets(manifest)

    for entry, table in targets["dynamodb"]:
        n = _load_table(table, os.path.join(data_dir, entry["file"]))
        _expect(n, entry["items"], entry["file"])
    for entry, (backend, bucket) in targets["s3"]:
        n = _load_bucket(backend, bucket, os.path.join(data_dir, entry["index"]), os.path.join(data_dir, entry["data"]))
        _expect(n, entry["objects"], entry["index"])
    for entry, queue in targets["sqs"]:
        n = _load_queue(queue, os.path.join(data_dir, entry["file"]))
        _expect(n, entry["messages"], entry["file"])

    # What was loaded lives until it is overwritten: keep the garbage collector from walking it again
    # (serve.py's tune_gc; moto's data holds no reference cycles, so it is still freed when dropped).
    gc.collect(1)
    gc.freeze()
    summary = _summary(manifest, started)
    summary["seconds"] = round(time.monotonic() - started, 3)
    summary["dir"] = state_dir
    return summary


def _check_manifest(path, raw):
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise StateCorrupt(f"{path} is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StateCorrupt(f"{path} is not a {FORMAT} manifest")
    if manifest.get("version") != VERSION:
        raise StateVersion(
            f"{path} has format version {manifest.get('version')!r}; this stack reads version {VERSION} "
            "(saved by another civicsnap version)"
        )
    for field in ("data", "files", "dynamodb", "s3", "sqs"):
        if field not in manifest:
            raise StateCorrupt(f"{path} lacks {field!r}")
    if "/" in manifest["data"] or manifest["data"].startswith("."):
        raise StateCorrupt(f"{path} names an invalid snapshot directory {manifest['data']!r}")
    return manifest


def _verify_files(manifest_path, data_dir, files):
    """Checks every file's size and SHA-256 before anything is applied, so a damaged snapshot is refused
    whole instead of loaded in part."""
    for rel, want in files.items():
        path = os.path.normpath(os.path.join(data_dir, rel))
        if not path.startswith(data_dir + os.sep):
            raise StateCorrupt(f"{manifest_path} names a file outside its snapshot: {rel!r}")
        sha, size = hashlib.sha256(), 0
        try:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    sha.update(block)
                    size += len(block)
        except OSError as e:
            raise StateCorrupt(f"saved state file {path} is unreadable ({e.strerror or e})") from None
        if size != want.get("bytes") or sha.hexdigest() != want.get("sha256"):
            raise StateCorrupt(
                f"saved state file {path} is damaged: {size} bytes with SHA-256 {sha.hexdigest()[:12]}…, "
                f"the manifest recorded {want.get('bytes')} bytes with {str(want.get('sha256'))[:12]}…"
            )


def _targets(manifest):
    """Finds the resources the snapshot's data goes into; all of them must exist already (created from
    the template by the stack), else nothing is loaded."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends

    missing, out = [], {"dynamodb": [], "s3": [], "sqs": []}
    for e in manifest["dynamodb"]:
        table = dynamodb_backends[e["account"]][e["region"]].tables.get(e["table"])
        if table is None:
            missing.append(f"table {e['table']}")
        out["dynamodb"].append((e, table))
    for e in manifest["s3"]:
        backend = s3_backends[e["account"]][e["partition"]]
        bucket = backend.buckets.get(e["bucket"])
        if bucket is None:
            missing.append(f"bucket {e['bucket']}")
        out["s3"].append((e, (backend, bucket)))
    for e in manifest["sqs"]:
        queue = sqs_backends[e["account"]][e["region"]].queues.get(e["queue"])
        if queue is None:
            missing.append(f"queue {e['queue']}")
        out["sqs"].append((e, queue))
    if missing:
        raise StateMismatch(
            "the saved state has resources this stack did not create (did template.yaml change?): "
            + ", ".join(missing)
        )
    return out


def _expect(got, want, rel):
    if got != want:
        raise StateCorrupt(f"saved state file {rel} holds {got} records, the manifest recorded {want}")


def _records(path):
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except ValueError as e:
                raise StateCorrupt(f"saved state file {path}, line {n}: {e}") from None


def _load_table(table, path):
    from moto.dynamodb.models import dynamo_type

    # Detach the stream: loading is not a change anyone should be told about, and a shard with a record
    # per loaded item would cost memory for nothing (stream readers start at LATEST after the load).
    shard, table.stream_shard = table.stream_shard, None
    # Skip the checks moto makes of every new item: these items passed them when they were written, and
    # the file's SHA-256 was verified. moto's item-size check re-measures every attribute each time one is
    # added (quadratic in the attributes) and, with the type and key-size checks, was most of the load time
    # (100,000 report-like items in process, on a busy 2-core machine: 62 s with them, 8 s without). The
    # request lock is held, so no request runs with the checks off; they are back before the load returns.
    size_check = dynamo_type.LimitedSizeDict.__setitem__
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__
    table._validate_item_types = _skip_check
    table._validate_key_sizes = _skip_check
    n = 0
    try:
        for attrs in _records(path):
            table.put_item(attrs, overwrite=True)
            n += 1
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = size_check
        del table._validate_item_types, table._validate_key_sizes
        table.stream_shard = shard
    return n


def _skip_check(*args, **kwargs):
    return None


def _load_bucket(backend, bucket, index_path, data_path):
    n = 0
    with open(data_path, "rb") as data:
        for rec in _records(index_path):
            data.seek(rec["offset"])
            value = data.read(rec["size"])
            if len(value) != rec["size"]:
                raise StateCorrupt(f"saved state file {data_path} ends before object {rec['key']!r}")
            key = backend.put_object(
                bucket.name, rec["key"], value, storage=rec.get("storageClass"), etag=rec.get("etag"),
                checksum_value=rec.get("checksumValue"), disable_notification=True,
            )
            if rec.get("versionId"):
                key._version_id = rec["versionId"]
            key._metadata.clear()
            key._metadata.update(rec["metadata"])
            key.checksum_algorithm = rec.get("checksumAlgorithm")
            key.last_modified = datetime.datetime.fromisoformat(rec["lastModified"])
            n += 1
    return n


def _load_queue(queue, path):
    from moto.sqs.models import Message

    messages = []
    for rec in _records(path):
        m = Message(rec["id"], rec["body"], _undo_bytes(rec.get("systemAttributes") or {}))
        m.message_attributes = _undo_bytes(rec.get("messageAttributes") or {})
        m.sender_id = rec.get("senderId") or m.sender_id
        m.sent_timestamp = rec.get("sentTimestamp")
        m.approximate_first_receive_timestamp = rec.get("firstReceiveTimestamp")
        m.approximate_receive_count = rec.get("receiveCount") or 0
        m.visible_at = rec.get("visibleAt") or 0.0
        m.delayed_until = rec.get("delayedUntil") or 0.0
        m.group_id = rec.get("groupId")
        m.deduplication_id = rec.get("deduplicationId")
        m.sequence_number = rec.get("sequenceNumber")
        messages.append(m)
    with queue._messages_lock:
        queue._messages.extend(messages)
        queue._messages_lock.notify_all()
    return len(messages)

