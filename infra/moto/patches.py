"""Every change serve.py makes to moto, pinned to moto 5.2.5.

moto is an in-memory fake of AWS written for unit tests: most of its operations walk, sort or copy whole
tables, and it keeps every object it ever created. A local stack that takes a month of reports exposes all
of that: a Query cost ~27 µs per item in the *table*, a TransactWriteItems deep-copied every table it
touched, stream shards and shard iterators only grew, and the process reached 14.7 GB. Each patch below is
one named function that fixes one such thing; its docstring says what moto does, why that is wrong or
slow, and what the patch does instead.

Rules the patches follow:

- Answers stay moto's own. The query patch only hands moto's Table.query a smaller candidate list; moto
  still filters, sorts, pages, projects and counts. The differential suite (test_differential.py) compares
  patched and stock moto on random workloads, request by request, so a moto upgrade that breaks an
  assumption shows up at once.
- Every patch is pinned: apply() refuses any moto but MOTO_VERSION unless told otherwise (the
  --any-moto-version flag of serve.py or CIVICSNAP_MOTO_ANY_VERSION=1), because each patch relies on the
  exact code of moto's functions it replaces or wraps.
- Every patch can be left out (serve.py --without-patch NAME) and, once installed, switched off and on in
  process (inactive()), which is how the tests show that each of them is needed.

Usage: patches.apply(without=[...]) once, before the first request.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import inspect
import logging
import os
import pickle
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

MOTO_VERSION = "5.2.5"
ANY_VERSION_ENV = "CIVICSNAP_MOTO_ANY_VERSION"

log = logging.getLogger("civicsnap.motopatches")

# Wall-clock seconds; tests replace it (patches.clock = fake) to age stream records and shard iterators.
clock: Callable[[], float] = time.time

# How long a stream record stays readable (DynamoDB keeps 24 hours) and how long a shard iterator is valid
# after it was issued (DynamoDB: 15 minutes). serve.py's --stream-retention and --shard-iterator-lifetime
# set them; tests set them directly.
stream_retention_seconds: float = 24 * 3600
shard_iterator_lifetime_seconds: float = 15 * 60

# Counters the tests read (and a curious developer can print): how many Queries were narrowed, fell back to
# moto's full walk, or hit an unexpected error in the narrowing (a bug: the query still answers, through
# the fallback), and how often an index was (re)built.
stats: dict[str, int] = {
    "query_narrowed": 0,
    "query_fallback": 0,
    "query_error": 0,
    "index_build": 0,
    "index_inconsistent": 0,
}

PATCHES: dict[str, Callable[[], None]] = {}
_installed: set[str] = set()
_active: set[str] = set()


def patch(fn: Callable[[], None]) -> Callable[[], None]:
    """Registers a patch under its function name, in definition order (the order apply() installs them)."""
    PATCHES[fn.__name__] = fn
    return fn


def is_active(name: str) -> bool:
    return name in _active


def check_version(any_version: bool = False) -> str:
    """Returns moto's version; raises RuntimeError unless it is MOTO_VERSION or an override is set."""
    import moto

    version = getattr(moto, "__version__", "unknown")
    if version == MOTO_VERSION:
        return version
    if any_version or os.environ.get(ANY_VERSION_ENV) == "1":
        log.warning(
            "moto %s is not the %s these patches were written for; applying them anyway (override set)",
            version,
            MOTO_VERSION,
        )
        return version
    raise RuntimeError(
        f"infra/moto/patches.py is written against moto {MOTO_VERSION} but moto {version} is installed. "
        f"Each patch replaces or wraps moto internals of that exact version. Pin moto[server]=={MOTO_VERSION} "
        f"in infra/tools/requirements.txt (make venv), or port the patches: run "
        f"`.venv/bin/python -m unittest discover -s infra/moto` (the differential suite says what broke), and "
        f"only then start with --any-moto-version or {ANY_VERSION_ENV}=1."
    )


def apply(without: Iterable[str] = (), any_version: bool = False) -> list[str]:
    """Installs and activates every patch except those named in without; returns the names applied.

    Unknown names raise ValueError, so a typo in --without-patch does not silently test the wrong thing.
    keep_stream_shards_on_rollback is superseded by transaction_undo_log (which never replaces a table, so
    the shard stays anyway): it is applied only when transaction_undo_log is left out."""
    check_version(any_version)
    without = set(without)
    unknown = without - set(PATCHES)
    if unknown:
        raise ValueError(f"unknown moto patch {sorted(unknown)}; known: {', '.join(PATCHES)}")
    applied = []
    for name in PATCHES:
        if name in without:
            continue
        if name == "keep_stream_shards_on_rollback" and "transaction_undo_log" not in without:
            continue
        install(name)
        _active.add(name)
        applied.append(name)
    return applied


def install(name: str) -> None:
    """Installs a patch (idempotent) without activating it."""
    if name not in _installed:
        PATCHES[name]()
        _installed.add(name)


def install_all() -> None:
    for name in PATCHES:
        install(name)


@contextlib.contextmanager
def inactive(*names: str) -> Iterator[None]:
    """Switches installed patches off for the duration (all of them without names); for tests."""
    names = names or tuple(PATCHES)
    was = set(_active)
    _active.difference_update(names)
    try:
        yield
    finally:
        _active.clear()
        _active.update(was)


@contextlib.contextmanager
def active(*names: str) -> Iterator[None]:
    """Switches installed patches on for the duration; for tests."""
    was = set(_active)
    _active.update(names)
    try:
        yield
    finally:
        _active.clear()
        _active.update(was)


# ---------------------------------------------------------------------------------------------------------
# Memory


@patch
def untrack_model_instances() -> None:
    """Stop moto from keeping every model object it ever creates.

    moto: BaseModel.__new__ appends each new instance to its class's `instances_tracked` list, for the
    moto-api dashboard (/moto-api/data.json) and for S3's reset. Every DynamoDB Item is a BaseModel — the
    stored ones, and the deep copies moto makes for each Query result, each UpdateItem's old image and each
    transaction's table backup — and so is every stream record, shard iterator, SQS message and S3 object
    version. None of them is ever released: memory grows with every request, which is most of the 14.7 GB
    measured after a demo month.

    Patch: BaseModel.__new__ no longer tracks (the lists are emptied once). Objects are freed when moto
    drops them, like any Python object; an S3 FakeKey closes its buffer in __del__. The only loss is the
    moto-api dashboard's object listing, which civicsnap does not use.
    """
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data

    original = BaseModel.__new__

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        if "untrack_model_instances" not in _active:
            return original(cls, *args, **kwargs)
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign]
    for models in model_data.values():
        for model in models.values():
            del getattr(model, "instances_tracked", [])[:]


@patch
def drop_empty_partitions() -> None:
    """Stop GetItem and DeleteItem of a missing key from leaving an empty partition behind.

    moto: Table.items is a defaultdict(dict) of partitions. get_item and delete_item index it with
    `self.items[hash_key][range_key]`, so looking up (or deleting) an item whose partition does not exist
    creates an empty one that stays forever, and deleting a partition's last item leaves it empty. A
    civicsnap stack probes many keys that do not exist (idempotency records, claims, per-day counters):
    the table's dict grew with every distinct miss, and so did every walk over it.

    Patch: a lookup or delete of a key whose partition does not exist answers as moto would (None) without
    creating it, and a delete that empties a partition removes it. Nothing observable changes: moto's own
    count, scans and queries skip empty partitions.
    """
    from moto.dynamodb.models.table import Table

    get_item, delete_item = Table.get_item, Table.delete_item

    def patched_get_item(self: Any, hash_key: Any, range_key: Any = None, projection_expression: Any = None) -> Any:
        if "drop_empty_partitions" in _active and range_key and hash_key not in self.items:
            return None
        return get_item(self, hash_key, range_key, projection_expression)

    def patched_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        if "drop_empty_partitions" not in _active or not range_key:
            return delete_item(self, hash_key, range_key)
        if hash_key not in self.items:
            return None
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            partition = self.items.get(hash_key)
            if partition is not None and not partition:
                del self.items[hash_key]

    Table.get_item = patched_get_item  # type: ignore[method-assign]
    Table.delete_item = patched_delete_item  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------------
# Query through per-partition sorted indexes

_FOREIGN = object()  # an item whose key attribute has a type other than the declared one: not indexable


def _first(entry: tuple) -> Any:
    return entry[0]


def _first_of_first(entry: tuple) -> Any:
    return entry[0][0]


class _View:
    """One way to query a table — by its own key or by one secondary index — as sorted partitions.

    attrs is the list moto sorts by (Table._generate_attr_to_sort_by), partition attribute first: for the
    table's key [hash, range]; for an index [index hash, index range, table hash, table range] (moto's
    choices for indexes without a range key included). An entry is (tuple of the cast values of attrs[1:],
    item), so the sort order of a partition's entries is exactly the order moto's sort would give, and a
    range key condition applies to the first element of the tuple.
    """

    def __init__(self, name: str | None, attrs: list[str], types: list[str], cond_attr: str | None, needs_range: bool):
        self.name = name
        self.attrs = attrs
        self.types = types
        self.cond_attr = cond_attr  # the attribute a range key condition is on (attrs[1]), if any
        self.needs_range = needs_range  # moto lists only items having the index's range key
        self.partitions: dict[Any, list[tuple]] = {}
        self.foreign = 0  # indexable items whose key attributes have undeclared types: queries fall back

    def key(self, item: Any) -> Any:
        """(partition value, sort tuple) of item in this view, None if moto would not list it, _FOREIGN if
        it has a key attribute of another type than declared."""
        if self.name is None:
            values = [item.hash_key] if len(self.attrs) == 1 else [item.hash_key, item.range_key]
        else:
            attrs = item.attrs
            if self.attrs[0] not in attrs or (self.needs_range and self.cond_attr not in attrs):
                return None
            values = [attrs.get(a) for a in self.attrs]
        casts = []
        for value, declared in zip(values, self.types):
            if value is None or value.type != declared:
                return _FOREIGN
            casts.append(value.cast_value)
        return casts[0], tuple(casts[1:])


def _declared_types(table: Any) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in table.attr}


def _table_view(table: Any) -> _View:
    attrs = table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr])
    declared = _declared_types(table)
    types = [declared.get(a) or (table.hash_key_type if a == table.hash_key_attr else table.range_key_type) for a in attrs]
    return _View(None, attrs, types, table.range_key_attr, False)


def _index_view(table: Any, index: Any) -> _View | None:
    """The view of an index, built from the same choices Table.query makes; None for what the patch does
    not narrow (multi-attribute keys, undeclared attributes)."""
    from moto.dynamodb.models.table import GlobalSecondaryIndex

    hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if len(hash_keys) != 1 or len(range_keys) > 1:
        return None
    if range_keys:
        range_attrs = [range_keys[0], table.range_key_attr]
    elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        range_attrs = [table.range_key_attr, table.range_key_attr]
    else:
        range_attrs = [table.hash_key_attr, table.range_key_attr]
    attrs = table._generate_attr_to_sort_by([hash_keys[0], table.hash_key_attr], range_attrs)
    if not attrs or attrs[0] != hash_keys[0]:
        return None
    declared = _declared_types(table)
    if any(a not in declared for a in attrs):
        return None
    cond_attr = range_keys[0] if range_keys else None
    if cond_attr is not None and attrs[1] != cond_attr:
        return None
    return _View(index.name, attrs, [declared[a] for a in attrs], cond_attr, bool(range_keys))


def _signature(table: Any) -> tuple:
    """What the views of a table are built from; a change (UpdateTable adding an index) means a rebuild."""
    return (
        table.hash_key_attr,
        table.range_key_attr,
        tuple((a["AttributeName"], a["AttributeType"]) for a in table.attr),
        tuple(
            (type(i).__name__, i.name, tuple((k["AttributeName"], k["KeyType"]) for k in i.schema))
            for i in table.all_indexes()
        ),
    )


def _table_items(table: Any) -> Iterator[Any]:
    from moto.dynamodb.models.dynamo_type import Item

    for value in table.items.values():
        if isinstance(value, Item):
            yield value
        elif isinstance(value, dict):
            yield from value.values()


class _TableIndex:
    """The views of one table, kept in step with its items by the write hooks."""

    def __init__(self, table: Any):
        self.items_ref = table.items
        self.signature = _signature(table)
        self.dirty = False
        self.views: list[_View] = [_table_view(table)]
        for index in table.all_indexes():
            view = _index_view(table, index)
            if view is not None:
                self.views.append(view)
        self.by_name = {v.name: v for v in self.views}
        for item in _table_items(table):
            self.update(None, None, item)
        stats["index_build"] += 1

    def keys(self, item: Any) -> list[Any] | None:
        if item is None:
            return None
        return [view.key(item) for view in self.views]

    def update(self, old: Any, old_keys: list[Any] | None, new: Any) -> None:
        """Moves the entries of one table key from old (its item and keys before a write) to new (its item
        after; None when it was deleted)."""
        new_keys = self.keys(new)
        for i, view in enumerate(self.views):
            before = old_keys[i] if old_keys else None
            after = new_keys[i] if new_keys else None
            if old is new and (before is after or before == after):
                continue
            if before is not None:
                self._remove(view, before, old)
            if after is not None:
                self._add(view, after, new)

    def _remove(self, view: _View, key: Any, item: Any) -> None:
        if key is _FOREIGN:
            view.foreign -= 1
            return
        partition_value, sort = key
        partition = view.partitions.get(partition_value)
        if partition:
            i = bisect.bisect_left(partition, sort, key=_first)
            if i < len(partition) and partition[i][1] is item:
                del partition[i]
                if not partition:
                    del view.partitions[partition_value]
                return
        # An item changed behind the hooks' back: never seen in tests; rebuild rather than answer wrong.
        self.dirty = True
        stats["index_inconsistent"] += 1
        log.warning("query index of view %s out of step; it will be rebuilt", view.name)

    @staticmethod
    def _add(view: _View, key: Any, item: Any) -> None:
        if key is _FOREIGN:
            view.foreign += 1
            return
        partition_value, sort = key
        partition = view.partitions.get(partition_value)
        if partition is None:
            view.partitions[partition_value] = [(sort, item)]
        else:
            bisect.insort_right(partition, (sort, item), key=_first)


_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _index_of(table: Any, build: bool) -> _TableIndex | None:
    """The table's index if it is current; with build, (re)builds it when it is not. A table not queried
    yet has none: writes cost nothing extra until the first Query builds it (one walk of the table)."""
    index = _indexes.get(table)
    if index is not None and (index.dirty or index.items_ref is not table.items or index.signature != _signature(table)):
        del _indexes[table]
        index = None
    if index is None and build:
        index = _TableIndex(table)
        _indexes[table] = index
    return index


def check_index(table: Any) -> None:
    """Raises AssertionError unless the table's maintained index equals one built from scratch (tests)."""
    index = _indexes.get(table)
    if index is None:
        return
    fresh = _TableIndex(table)
    assert not index.dirty and index.items_ref is table.items, "index replaced or marked dirty"
    for kept, built in zip(index.views, fresh.views):
        got = {k: [(s, id(i)) for s, i in p] for k, p in kept.partitions.items()}
        want = {k: [(s, id(i)) for s, i in p] for k, p in built.partitions.items()}
        assert got == want, f"view {kept.name}: maintained index differs from a rebuilt one"
        assert kept.foreign == built.foreign, f"view {kept.name}: foreign {kept.foreign} != {built.foreign}"


def _native(value: Any) -> Any:
    return None if value is None else (value.type, value.cast_value)


def _lookup(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The item stored under the key, without creating a partition (Table.get_item would)."""
    from moto.dynamodb.models.dynamo_type import Item

    value = table.items.get(hash_key)
    if table.range_key_attr is None:
        return value if isinstance(value, Item) else None
    if not isinstance(value, dict) or range_key is None:
        return None
    return value.get(range_key)


_writes: dict[tuple, list] = {}


@contextlib.contextmanager
def _write(table: Any, hash_key: Any, range_key: Any) -> Iterator[None]:
    """Keeps the table's index in step with a write to one key: the item and its index keys are read before
    the outermost write to the key starts (UpdateItem mutates the item in place, so afterwards is too late)
    and the index is updated once it ends, whatever it did — replace, mutate, delete, or fail halfway."""
    index = _index_of(table, build=False) if "query_indexes" in _active else None
    if index is None:
        yield
        return
    try:
        key = (id(table), _native(hash_key), _native(range_key))
    except Exception:  # an invalid number: moto will refuse the write, but rebuild to be sure
        index.dirty = True
        yield
        return
    if key in _writes:
        _writes[key][0] += 1
        try:
            yield
        finally:
            _writes[key][0] -= 1
        return
    old = _lookup(table, hash_key, range_key)
    _writes[key] = [1]
    try:
        old_keys = index.keys(old)
    except Exception:
        index.dirty = True
        old_keys = None
    try:
        yield
    finally:
        del _writes[key]
        if not index.dirty:
            try:
                index.update(old, old_keys, _lookup(table, hash_key, range_key))
            except Exception:
                index.dirty = True
                stats["index_inconsistent"] += 1
                log.exception("query index update failed; it will be rebuilt")


_COMPARISONS = {"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"}


def _match_range(partition: list[tuple], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """[lo, hi): the entries (ascending) whose first sort value satisfies the key condition."""
    n = len(partition)
    if comparison is None:
        return 0, n
    v = values[0]
    lo = lambda x: bisect.bisect_left(partition, x, key=_first_of_first)  # noqa: E731
    hi = lambda x: bisect.bisect_right(partition, x, key=_first_of_first)  # noqa: E731
    if comparison == "=":
        return lo(v), hi(v)
    if comparison == "<":
        return 0, lo(v)
    if comparison == "<=":
        return 0, hi(v)
    if comparison == ">":
        return hi(v), n
    if comparison == ">=":
        return lo(v), n
    if comparison == "BETWEEN":
        a, b = lo(values[0]), hi(values[1])
        return (a, b) if values[0] <= values[1] else (a, a)
    # BEGINS_WITH: cutting every value to the prefix's length keeps the order, so the values starting with
    # the prefix are one run
    cut = len(v)
    return (
        bisect.bisect_left(partition, v, key=lambda e: e[0][0][:cut]),
        bisect.bisect_right(partition, v, key=lambda e: e[0][0][:cut]),
    )


def _candidates(table: Any, a: dict[str, Any]) -> list[Any] | None:
    """The items moto's Table.query needs to see to give its full answer, or None to let it walk the whole
    table (anything this does not narrow)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    if a.get("filter_kwargs"):
        return None  # legacy QueryFilter / non-key KeyConditions: moto counts those differently
    limit, forward = a["limit"], a["scan_index_forward"]
    if limit is not None and (type(limit) is not int or limit < 1):
        return None
    if type(forward) is not bool:
        return None
    index = _index_of(table, build=True)
    view = index.by_name.get(a.get("index_name") or None)
    if view is None or view.foreign:
        return None
    range_conditions = a.get("range_key_conditions") or []
    comparison, values = a["range_comparison"], a["range_objs"] or []
    if view.name is None:
        query_value = a["hash_key"]
    else:
        hash_conditions = a.get("hash_key_conditions") or []
        if len(hash_conditions) != 1 or hash_conditions[0][0] != view.attrs[0]:
            return None
        query_value = hash_conditions[0][1]
    if not isinstance(query_value, DynamoType) or query_value.type != view.types[0]:
        return None
    if comparison is not None or range_conditions:
        if (
            view.cond_attr is None
            or len(range_conditions) != 1
            or range_conditions[0][0] != view.cond_attr
            or range_conditions[0][1] != comparison
            or comparison not in _COMPARISONS
            or len(values) != (2 if comparison == "BETWEEN" else 1)
            or any(not isinstance(v, DynamoType) or v.type != view.types[1] for v in values)
            or (comparison == "BEGINS_WITH" and view.types[1] == "N")
        ):
            return None
    esk = a["exclusive_start_key"]
    if esk is not None:
        if not isinstance(esk, dict):
            return None
        start = []
        for attr, declared in zip(view.attrs, view.types):
            raw = esk.get(attr)
            if not isinstance(raw, dict) or len(raw) != 1:
                return None
            value = DynamoType(raw)
            if value.type != declared:
                return None
            start.append(value)
    try:  # an invalid number in the request: moto answers it its own way
        q = query_value.cast_value
        casts = [v.cast_value for v in values]
        if esk is not None:
            start = [v.cast_value for v in start]
    except ArithmeticError:
        return None

    partition = view.partitions.get(q, [])
    n = len(partition)
    m0, m1 = _match_range(partition, comparison, casts)
    if forward:
        at = partition.__getitem__
        d0, d1 = m0, m1
    else:
        at = lambda k: partition[n - 1 - k]  # noqa: E731
        d0, d1 = n - m1, n - m0

    # moto skips what comes before or at ExclusiveStartKey in query order: a prefix of the partition in
    # that order, its items compared lexicographically on view.attrs (Table._item_comes_before_dct)
    skipped = 0
    if esk is not None:
        ep, es = start[0], tuple(start[1:])
        if q != ep:
            skipped = n if (q < ep) == forward else 0
        elif forward:
            skipped = bisect.bisect_right(partition, es, key=_first)
        else:
            skipped = n - bisect.bisect_left(partition, es, key=_first)

    first = max(skipped, d0)
    if first >= d1:
        return []  # nothing matches after the start key: moto finds nothing and stops without a key
    # Walk the matches as moto's loop will: it stops at the first item it meets with Limit results taken,
    # or that would take the page past 1 MB, and that item must be there for it to set LastEvaluatedKey.
    count = size = 0
    end = None
    for k in range(first, d1):
        item_size = at(k)[1].size()
        if count == limit or size + item_size > RESULT_SIZE_LIMIT:
            end = k + 1
            break
        count += 1
        size += item_size
    if end is None:
        end = d1
        if count == limit:
            end = min(d1 + 1, n)  # whatever comes next (matching or not) makes moto stop with a key
        elif size > RESULT_SIZE_LIMIT // 2:
            # Past the matches moto still checks each item's size against the page: with more than half a
            # page taken, one large non-matching item could end it. Follow moto that far (rare: a Query
            # answering over 500 KB).
            for k in range(d1, n):
                end = k + 1
                if size + at(k)[1].size() > RESULT_SIZE_LIMIT:
                    break
    return [at(k)[1] for k in range(first, end)]


@patch
def query_indexes() -> None:
    """Answer a Query from the queried partition instead of the whole table.

    moto: Table.query calls all_items() — every item of the table, sorted by primary key — then keeps the
    items of the queried partition, sorts them again by the queried key, walks past ExclusiveStartKey and
    applies the key condition, Limit and the 1 MB page size. Every Query costs a sort of the whole table
    (~27 µs per item measured: a KPI run took 13.7 s at 6,306 items), whatever it returns.

    Patch: per table, for the table's key and each secondary index (single-attribute keys), a dict of
    partitions, each a list of (sort tuple, item) in exactly the order moto sorts by (index range key, then
    table hash and range key, as Table._generate_attr_to_sort_by says, with moto's cast values: str for S,
    Decimal for N, the stored value for B). A Query hands moto's own Table.query, in place of all_items(),
    only the items it will look at: the partition's items that satisfy the key condition (bisected: =, <,
    <=, >, >=, BETWEEN, begins_with), from ExclusiveStartKey on in the query's direction, up to the item
    at which Limit or the 1 MB page stops moto (plus that item, which makes moto set LastEvaluatedKey).
    moto then filters, sorts, pages, projects and counts them itself, so the answer is the same — the
    differential suite checks it. Anything else (legacy QueryFilter, multi-attribute keys, an item whose
    key attribute has an undeclared type, a start key that is not a full key, an invalid Limit) goes to
    moto's full walk unchanged.

    The index is built on a table's first Query and kept current by hooks on every write path: Table.put_item
    and Table.delete_item (PutItem, DeleteItem, BatchWriteItem, transactions, PartiQL, imports), the
    backend's update_item (which mutates the item in place, so the keys are read before it runs) and the
    transaction rollback of transaction_undo_log. A replaced items dict (restore from backup), a changed
    index schema (UpdateTable) or a deleted and re-created table is noticed and rebuilt from scratch.
    moto has no TTL expiry, so there is no other path. A hook never fails a write it follows: an index it
    cannot update is marked for a rebuild at the next Query (a 500 after the write would make the SDK send
    it again, and apply it twice).
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    signature = inspect.signature(original_query)
    put_item, delete_item, update_item = Table.put_item, Table.delete_item, DynamoDBBackend.update_item

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "query_indexes" not in _active:
            return original_query(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            candidates = _candidates(self, bound.arguments)
        except Exception:
            stats["query_error"] += 1
            log.exception("query narrowing failed; answering with moto's full walk")
            candidates = None
        if candidates is None:
            stats["query_fallback"] += 1
            return original_query(self, *args, **kwargs)
        stats["query_narrowed"] += 1
        self.all_items = lambda: candidates
        try:
            return original_query(self, *args, **kwargs)
        finally:
            del self.all_items

    def patched_put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            hash_key = DynamoType(item_attrs[self.hash_key_attr])
            range_key = DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None
        except Exception:
            return put_item(self, item_attrs, *args, **kwargs)  # moto refuses it
        with _write(self, hash_key, range_key):
            return put_item(self, item_attrs, *args, **kwargs)

    def patched_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        with _write(self, hash_key, range_key):
            return delete_item(self, hash_key, range_key)

    def patched_update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # the key as moto's update_item reads it
        try:
            table = self.get_table(table_name)
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        except Exception:
            return update_item(self, table_name, key, *args, **kwargs)
        with _write(table, hash_key, range_key):
            return update_item(self, table_name, key, *args, **kwargs)

    Table.query = query  # type: ignore[method-assign]
    Table.put_item = patched_put_item  # type: ignore[method-assign]
    Table.delete_item = patched_delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = patched_update_item  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------------
# Transactions


def _next_sequence(shard: Any) -> int:
    """The sequence number the shard's next record gets (stream_shards_expire keeps it increasing across
    trims by advancing starting_sequence_number)."""
    return shard.starting_sequence_number + len(shard.items)


def _drop_records_from(shard: Any, sequence: int) -> None:
    """Removes the records numbered sequence and up: those of writes that were rolled back."""
    keep = max(sequence - shard.starting_sequence_number, 0)
    del shard.items[keep:]


@patch
def keep_stream_shards_on_rollback() -> None:
    """Keep each table's stream shard object when moto rolls a cancelled TransactWriteItems back, and take
    one backup copy per table rather than one per item. (Superseded by transaction_undo_log, which never
    replaces a table; apply() uses this one only when transaction_undo_log is left out.)

    moto rolls a cancelled transaction back by replacing the whole table with a deep copy taken before it,
    stream shard included. Shard iterators already handed out hold the old shard object, so every stream
    reader (the local event source mappings) would stop seeing new records after the first cancelled
    transaction. Real DynamoDB has no such effect. After moto's rollback, the original shard is put back on
    the restored table, less the records of the writes that were rolled back. moto also deep-copied a
    table once per item of the transaction that touched it; one copy per table (without the shard, which
    only grows) is the same backup.
    """
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class OneCopyPerTable:
        """Stands in for the copy module inside one transaction: moto deep-copies a table once per item
        that touches it, all before the first write, so one copy per table is the same backup for a
        fraction of the time (a 10-item transaction on a big table copied it 10 times)."""

        def __init__(self) -> None:
            self.tables: dict[int, Any] = {}

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table):
                if id(value) not in self.tables:
                    # The stream shard is left out of the backup: it only grows, so copying it made each
                    # transaction slower than the last, and the rollback below puts the original back.
                    shard, value.stream_shard = value.stream_shard, None
                    try:
                        self.tables[id(value)] = copy.deepcopy(value)
                    finally:
                        value.stream_shard = shard
                return self.tables[id(value)]
            return copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        if "keep_stream_shards_on_rollback" not in _active or "transaction_undo_log" in _active:
            return original(self, transact_items)
        shards = {
            name: (table.stream_shard, _next_sequence(table.stream_shard))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        dynamodb_models.copy = OneCopyPerTable()
        try:
            return original(self, transact_items)
        except Exception:
            for name, (shard, sequence) in shards.items():
                table = self.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    # the restored backup has no shard of its own: give it back the original
                    _drop_records_from(shard, sequence)
                    shard.table = table
                    table.stream_shard = shard
            raise
        finally:
            dynamodb_models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class _LiveTables:
    """Stands in for the copy module in moto.dynamodb.models during a transaction: moto's "backup" of a
    table is the table itself, so its "restore" is a no-op assignment. Everything else (UpdateItem's copy of
    the old item) is copied as before."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _undo_log(backend: Any, transact_items: Any) -> tuple[list[tuple], list[tuple]]:
    """The prior item (or None) under every key the transaction names, and each table's next stream
    sequence number. Keys that cannot be read are skipped: moto refuses those operations before writing
    anything. Only an Update's item is deep-copied: moto's update_item changes the stored item in place,
    while Put stores a new Item, Delete only removes it and ConditionCheck writes nothing, so for those the
    stored object itself is the prior state (moto refuses a second operation on a key before applying it)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    items: list[tuple] = []
    streams: dict[int, tuple] = {}
    for entry in transact_items if isinstance(transact_items, list) else []:
        for op_type, op in entry.items() if isinstance(entry, dict) else []:
            try:
                table = backend.get_table(op["TableName"])
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(attrs[table.hash_key_attr])
                range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                prior = _lookup(table, hash_key, range_key)
                if op_type == "Update":  # moto's update_item changes the stored item in place
                    prior = copy.deepcopy(prior)
            except Exception:
                continue
            items.append((table, hash_key, range_key, prior))
            if id(table) not in streams and table.stream_shard is not None:
                streams[id(table)] = (table, table.stream_shard, _next_sequence(table.stream_shard))
    return items, list(streams.values())


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """Puts item (None: no item) back under the key, keeping the query index in step."""
    with _write(table, hash_key, range_key):
        if table.range_key_attr is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
            return
        partition = table.items.get(hash_key)
        if item is None:
            if partition is not None:
                partition.pop(range_key, None)
                if not partition:
                    del table.items[hash_key]
        elif partition is None:
            table.items[hash_key] = {range_key: item}
        else:
            partition[range_key] = item


@patch
def transaction_undo_log() -> None:
    """Back a TransactWriteItems up by the items it touches, not by copying whole tables.

    moto: before a transaction it deep-copies every table the transaction names (serve.py's earlier patch
    cut that to one copy per table), and on failure replaces the tables with the copies. The copy costs time
    proportional to the table — every transaction got slower as the stack filled — and replacing the table
    object also replaced its stream shard under the readers' iterators.

    Patch: record an undo log first — for each key the transaction names, the item stored there (a deep copy
    for an Update, which changes it in place; or None), and each table's next stream sequence number — and make moto's backup step free (its
    copy of a table is the live table, so its restore assigns the table to itself). If the transaction fails
    in any way (cancelled by a condition at any position, a validation error, anything raised), every logged
    key gets its prior item back (or loses the one the transaction created), the query index is updated for
    it, and the stream records the cancelled writes appended are dropped from the same shard object, so
    iterators already handed out keep working and never see rolled-back writes. Only the logged keys can
    have changed: each operation writes its own key and moto refuses two operations on one key.
    """
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    live = _LiveTables()

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        if "transaction_undo_log" not in _active:
            return original(self, transact_items)
        items, streams = _undo_log(self, transact_items)
        dynamodb_models.copy = live
        try:
            return original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(items):
                _restore(table, hash_key, range_key, item)
            for table, shard, sequence in streams:
                if table.stream_shard is shard:
                    _drop_records_from(shard, sequence)
            raise
        finally:
            dynamodb_models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------------
# Streams


def _trimmed_error(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("TrimmedDataAccessException", message)


def _trim(shard: Any) -> None:
    """Drops the records older than the retention from the front of the shard, in batches: only once the
    oldest is older than the retention plus 1/32 of it (45 minutes for 24 hours), so a busy stream does not
    shift its list on every write."""
    items = shard.items
    if not items:
        return
    retention = stream_retention_seconds
    horizon = clock() - retention
    created = getattr(items[0], "_civicsnap_created", None)
    if created is None or created >= horizon - retention / 32:
        return
    k = 0
    while k < len(items):
        created = getattr(items[k], "_civicsnap_created", None)
        if created is None or created >= horizon:
            break
        k += 1
    del items[:k]
    shard.starting_sequence_number += k


@patch
def stream_shards_expire() -> None:
    """Keep stream records 24 hours, as DynamoDB does, instead of forever.

    moto: StreamShard.items only grows — every write appends a record holding both images — and a record's
    sequence number is its index in that list plus the shard's starting number, so nothing can be removed
    without renumbering everything after it.

    Patch: each record is stamped with its creation time (patches.clock); when the shard's oldest record is
    older than the retention (stream_retention_seconds, serve.py --stream-retention; checked on each write,
    GetShardIterator and GetRecords) the expired records are dropped from the front and starting_sequence_number
    advances by as many, so sequence numbers keep increasing and moto's own arithmetic (LATEST,
    TRIM_HORIZON, GetRecords' slice) keeps working unchanged. DescribeStream still reports the shard's first
    sequence number. As in DynamoDB, GetShardIterator at or after a sequence number that was trimmed, and
    GetRecords with an iterator whose position was trimmed since it was issued, fail with
    TrimmedDataAccessException (HTTP 400); TRIM_HORIZON starts at the oldest record kept.
    Trimming happens in batches (see _trim), so a record may outlive the retention by up to 1/32 of it.
    """
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import ShardIterator

    add, get, to_json, init = StreamShard.add, StreamShard.get, StreamShard.to_json, ShardIterator.__init__

    def patched_add(self: Any, old: Any, new: Any) -> None:
        if "stream_shards_expire" not in _active:
            return add(self, old, new)
        if not hasattr(self, "_civicsnap_first"):
            self._civicsnap_first = self.starting_sequence_number
        before = len(self.items)
        add(self, old, new)
        # The write is applied: nothing here may raise. A 500 now would make the SDK send the request again
        # and apply it twice (an ADD counted twice); a trim that fails is only retried at the next write.
        try:
            if len(self.items) > before:
                self.items[-1]._civicsnap_created = clock()
            _trim(self)
        except Exception:
            log.exception("stream trim failed; records are kept until the next write")

    def patched_get(self: Any, start: int, quantity: int) -> Any:
        if "stream_shards_expire" in _active:
            _trim(self)
            if start < self.starting_sequence_number:
                raise _trimmed_error(
                    f"Records before sequence number {self.starting_sequence_number} were trimmed from the "
                    "stream (older than its retention); start again from TRIM_HORIZON"
                )
        return get(self, start, quantity)

    def patched_to_json(self: Any) -> Any:
        out = to_json(self)
        first = getattr(self, "_civicsnap_first", None)
        if first is not None:
            out["SequenceNumberRange"]["StartingSequenceNumber"] = str(first)
        return out

    def patched_init(self: Any, streams_backend: Any, stream_shard: Any, shard_iterator_type: str, sequence_number: Any = None) -> None:
        if "stream_shards_expire" in _active:
            _trim(stream_shard)
            if shard_iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number is not None:
                position = sequence_number + (1 if shard_iterator_type == "AFTER_SEQUENCE_NUMBER" else 0)
                if position < stream_shard.starting_sequence_number:
                    raise _trimmed_error(
                        f"Sequence number {sequence_number} is older than the stream's oldest record "
                        f"({stream_shard.starting_sequence_number}); start again from TRIM_HORIZON"
                    )
        init(self, streams_backend, stream_shard, shard_iterator_type, sequence_number)

    StreamShard.add = patched_add  # type: ignore[method-assign]
    StreamShard.get = patched_get  # type: ignore[method-assign]
    StreamShard.to_json = patched_to_json  # type: ignore[method-assign]
    ShardIterator.__init__ = patched_init  # type: ignore[method-assign]


def _expire_iterators(backend: Any) -> None:
    iterators = backend.shard_iterators
    if not isinstance(iterators, OrderedDict):
        iterators = backend.shard_iterators = OrderedDict(iterators)
    horizon = clock() - shard_iterator_lifetime_seconds
    while iterators:
        first = next(iter(iterators))
        if getattr(iterators[first], "_civicsnap_issued", 0) >= horizon:
            break
        iterators.popitem(last=False)


@patch
def shard_iterators_expire() -> None:
    """Expire shard iterators 15 minutes after issue, as DynamoDB does, instead of keeping them forever.

    moto: DynamoDBStreamsBackend.shard_iterators keeps every iterator ever issued, and each GetRecords
    issues one (its NextShardIterator): a stream reader polling every 150 ms grew moto by ~55 MB an hour.
    An unknown iterator made GetRecords fail with KeyError (HTTP 500).

    Patch: iterators are stamped when issued (patches.clock) and kept in issue order; on GetShardIterator
    and GetRecords those issued more than shard_iterator_lifetime_seconds ago (serve.py
    --shard-iterator-lifetime, default 900) are dropped from the front. GetRecords with an iterator that is
    not kept — expired, or never issued by this process — answers ExpiredIteratorException (HTTP 400), on
    which a reader gets a new iterator (infra/pump does: after its last sequence number). Reusing an
    iterator within its lifetime still works, as in DynamoDB.
    """
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    init = ShardIterator.__init__
    get_shard_iterator, get_records = DynamoDBStreamsBackend.get_shard_iterator, DynamoDBStreamsBackend.get_records

    def patched_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._civicsnap_issued = clock()

    def patched_get_shard_iterator(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "shard_iterators_expire" in _active:
            _expire_iterators(self)
        return get_shard_iterator(self, *args, **kwargs)

    def patched_get_records(self: Any, iterator_arn: str, limit: int) -> Any:
        if "shard_iterators_expire" not in _active:
            return get_records(self, iterator_arn, limit)
        _expire_iterators(self)
        if iterator_arn not in self.shard_iterators:
            raise JsonRESTError(
                "ExpiredIteratorException",
                f"Iterator expired: shard iterators are valid for {shard_iterator_lifetime_seconds:g} s after "
                "they are issued (or this one was never issued here); get a new one with GetShardIterator",
            )
        return get_records(self, iterator_arn, limit)

    ShardIterator.__init__ = patched_init  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = patched_get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = patched_get_records  # type: ignore[method-assign]


class _PackedRecord:
    """A stream record as the pickle of moto's record dict: one bytes object instead of ~40 dicts and strings.
    to_json() unpickles a fresh copy of exactly the dict moto built."""

    __slots__ = ("blob", "_civicsnap_created")

    def __init__(self, record: dict[str, Any]):
        self.blob = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)

    def to_json(self) -> dict[str, Any]:
        return pickle.loads(self.blob)

    @property
    def record(self) -> dict[str, Any]:  # moto's StreamRecord attribute, for any reader that uses it
        return self.to_json()


@patch
def compact_stream_records() -> None:
    """Keep each stream record as one pickled blob instead of moto's nested dicts.

    moto: a StreamRecord holds its record as nested dicts — both images as {attribute: {type: value}} plus
    keys and metadata — about 6.9 KB of Python objects for a civicsnap item of ~600 bytes on the wire
    (measured in a running stack: 10,522 records took 72.6 MB, the 8,102 items they describe 27 MB).
    DynamoDB keeps records 24 hours (stream_shards_expire), which covers a whole `make scale` run: the
    records were most of moto's 4.35 GB peak there, and each is ~40 more objects for every garbage
    collection to walk.

    Patch: StreamShard.add still builds moto's own StreamRecord (images, keys, SizeBytes exactly as moto
    computes them), and the shard keeps the pickle of its record dict (~700 bytes) in a slotted object;
    GetRecords unpickles each record it returns, so answers are the same dicts moto would have served
    (the differential suite compares every record). Records created while the patch is off stay moto's.
    """
    import moto.dynamodb.models.table as table_module

    original = table_module.StreamRecord

    def stream_record(*args: Any, **kwargs: Any) -> Any:
        record = original(*args, **kwargs)
        if "compact_stream_records" not in _active:
            return record
        return _PackedRecord(record.record)

    table_module.StreamRecord = stream_record  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------
# Responses


class _NotFast(Exception):
    """A value the fast AttributeValue serializer does not handle: the generic one does."""


_STRING_MEMBERS = ("S", "N")
_AV_MEMBERS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def _attribute_value(value: Any, b64: Callable[[Any], str]) -> dict[str, Any]:
    """The wire form moto's generic JSON serializer gives an AttributeValue (a {type: value} dict as
    dynamo_to_dict leaves it), member by member: strings through str(), blobs base64-encoded, booleans as
    they are, maps and lists recursively, None members and map entries left out, None list entries kept."""
    if type(value) is not dict or len(value) != 1:
        raise _NotFast
    ((kind, v),) = value.items()
    if kind not in _AV_MEMBERS:
        raise _NotFast
    if v is None:
        return {}
    if kind in _STRING_MEMBERS:
        return {kind: v if type(v) is str else str(v)}
    if kind == "M":
        if type(v) is not dict:
            raise _NotFast
        return {kind: {k: _attribute_value(x, b64) for k, x in v.items() if x is not None}}
    if kind == "L":
        if type(v) is not list:
            raise _NotFast
        return {kind: [None if x is None else _attribute_value(x, b64) for x in v]}
    if kind in ("BOOL", "NULL"):
        return {kind: v}
    if kind == "B":
        return {kind: b64(v)}
    if type(v) is not list:
        raise _NotFast
    if kind == "BS":
        return {kind: [b64(x) for x in v]}
    return {kind: [x if x is None or type(x) is str else str(x) for x in v]}  # SS, NS


@patch
def fast_attribute_values() -> None:
    """Serialize DynamoDB AttributeValues directly instead of through moto's generic serializer.

    moto: every response is rendered by moto.core.serialize, which walks the botocore output shape and,
    for each AttributeValue, looks each of its ten members (S, N, B, SS, ... BOOL) up in the value through
    an attribute picker trying several spellings of the name. That is ~2 ms per returned item of 1 KB
    (profiled: 87% of a Query returning 20 reports); it does not grow with the table, but it made every
    paged Query, BatchGetItem and GetRecords slow.

    Patch: in moto's JSON serializer, an AttributeValue of the dynamodb and dynamodbstreams services is
    converted in one recursive pass that does member for member what the generic code does (strings
    through str(), blobs base64-encoded, maps and lists recursively, None members dropped), and an
    attribute map (an item, a key) converts its values that way without a generic dispatch per attribute;
    anything else it does not recognise goes through the generic code. The differential suite compares the two on every
    response it makes.
    """
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            "fast_attribute_values" in _active
            and key
            and shape.name == "AttributeValue"
            and self.operation_model.service_model.service_name in ("dynamodb", "dynamodbstreams")
        ):
            try:
                wire = _attribute_value(value, self._base64)
            except _NotFast:
                pass
            else:
                self._default_serialize(serialized, wire, shape, key)
                return
        original(self, serialized, value, shape, key)

    original_map = BaseJSONSerializer._serialize_type_map

    def _serialize_type_map(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            "fast_attribute_values" not in _active
            or getattr(shape.value, "name", None) != "AttributeValue"
            or self.operation_model.service_model.service_name not in ("dynamodb", "dynamodbstreams")
            or not isinstance(value, dict)
        ):
            return original_map(self, serialized, value, shape, key)
        # moto's loop (an attribute map: an item, a key), with each value converted in one pass
        map_obj = self.MAP_TYPE()
        self._default_serialize(serialized, map_obj, shape, key)
        value_shape = shape.value
        for sub_key, sub_value in value.items():
            if sub_value is None:
                continue  # moto's structure serializer writes nothing for None
            try:
                wire = _attribute_value(sub_value, self._base64)
            except _NotFast:
                self._serialize(map_obj, sub_value, value_shape, sub_key)
            else:
                self._default_serialize(map_obj, wire, value_shape, sub_key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_map = _serialize_type_map  # type: ignore[method-assign]


@patch
def moto_modules_listed_once() -> None:
    """List moto's service packages once, not on every request.

    moto: DomainDispatcherApplication.get_backend_for_host, which picks the backend of every request
    served, asks `host in backends.list_of_moto_modules()`, and that generator lists moto's package
    directory and calls os.path.isdir on each of its ~160 entries until it finds the host: a directory
    listing and up to 160 stat calls per request, 5 % of the process's CPU in a running stack (py-spy).

    Patch: the first call lists the directory as moto does and keeps the names; later calls answer from
    that list (moto's installed packages do not change while it runs).
    """
    from moto import backends

    original = backends.list_of_moto_modules
    listed: list[tuple[str, ...]] = []

    def list_of_moto_modules() -> Iterable[str]:
        if "moto_modules_listed_once" not in _active:
            return original()
        if not listed:
            listed.append(tuple(original()))
        return listed[0]

    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]


@patch
def action_lookup_cached() -> None:
    """Look a request's action up in a per-class table instead of inspecting the handler class each time.

    moto: BaseResponse.call_action, which every DynamoDB, Streams and SQS request goes through, converts the
    action name with camelcase_to_underscores (a character-by-character Python loop) and then calls
    method_names_from_class, i.e. inspect.getmembers on the handler class — every attribute of a class with
    ~80 methods, sorted — to ask whether the action is one of them: 4 % of the process's CPU (py-spy, a
    running stack).

    Patch: in moto.core.responses, method_names_from_class answers from a dict of frozensets per class (the
    functions a class defines do not change after import; the patches replace some, under the same names)
    and camelcase_to_underscores from a cache keyed by its argument (a pure function; there are as many
    keys as action names).
    """
    import functools

    from moto.core import responses

    names_of, underscores = responses.method_names_from_class, responses.camelcase_to_underscores
    cached_underscores = functools.lru_cache(maxsize=4096)(underscores)
    by_class: dict[type, frozenset[str]] = {}

    def method_names_from_class(clazz: Any) -> Any:
        if "action_lookup_cached" not in _active:
            return names_of(clazz)
        names = by_class.get(clazz)
        if names is None:
            names = by_class[clazz] = frozenset(names_of(clazz))
        return names

    def camelcase_to_underscores(argument: str) -> str:
        if "action_lookup_cached" not in _active or type(argument) is not str:
            return underscores(argument)
        return cached_underscores(argument)

    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]
    responses.camelcase_to_underscores = camelcase_to_underscores  # type: ignore[assignment]


@patch
def item_size_summed_once() -> None:
    """Check a new item's 400 KB limit once, and size map values without copying them.

    moto: Item.__init__ stores each attribute through LimitedSizeDict.__setitem__, which sums the size of
    every attribute already stored before adding one: quadratic in the attributes of every item written
    (4 % of the process's CPU with civicsnap's ~15-attribute items). DynamoType.size of a map builds a new
    DynamoType — a recursive copy — of each value just to ask its size.

    Patch: Item.__init__ converts the attributes as moto does and keeps one running sum of their sizes,
    raising moto's ItemSizeTooLarge at the attribute where it passes moto's 405,000-byte limit — where
    moto's own sum of everything stored so far would. DynamoType.size of a map adds up each
    value's own size (a copy of a DynamoType has the size of the original); every other type is sized by
    moto's code. Updates still go through LimitedSizeDict.__setitem__.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    init, size = Item.__init__, DynamoType.size

    def patched_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        if "item_size_summed_once" not in _active:
            return init(self, hash_key, range_key, attrs)
        self.hash_key = hash_key
        self.range_key = range_key
        stored = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            value = DynamoType(value)
            total += bytesize(key) + value.size()
            if total > 405000:
                raise ItemSizeTooLarge
            dict.__setitem__(stored, key, value)
        self.attrs = stored

    def patched_size(self: Any) -> int:
        if "item_size_summed_once" in _active and self.type == "M" and type(self.value) is dict:
            return sum(bytesize(k) + (v.size() if type(v) is DynamoType else DynamoType(v).size()) for k, v in self.value.items())
        return size(self)

    Item.__init__ = patched_init  # type: ignore[method-assign]
    DynamoType.size = patched_size  # type: ignore[method-assign]


@patch
def expression_processors_mapped_once() -> None:
    """Build each expression processor's node-type table once per processor, not once per node.

    moto: an UpdateExpression (and its ConditionExpression) is validated and applied by some ten
    DepthFirstTraverser subclasses walking its syntax tree; for every node of the tree each of them calls
    nodes_to_be_processed() and, for a matching node, process(), and both call _processing_map(), which
    builds a new dict of bound methods each time. With civicsnap's UpdateItems and transactions that was
    ~5 % of the process's CPU (py-spy, a running stack).

    Patch: DepthFirstTraverser.nodes_to_be_processed and process keep the traverser's _processing_map()
    (and its tuple of node types) on the instance after the first call and use it for the rest of the
    walk. Every _processing_map() in moto 5.2.5 returns the same table of the same bound methods each time
    it is called (no branches on state), so the walk visits and processes exactly the same nodes.
    """
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    types_of, process = DepthFirstTraverser.nodes_to_be_processed, DepthFirstTraverser.process

    def table(self: Any) -> dict[type, Any]:
        kept = self.__dict__.get("_civicsnap_map")
        if kept is None:
            kept = self.__dict__["_civicsnap_map"] = self._processing_map()
        return kept

    def nodes_to_be_processed(self: Any) -> Any:
        if "expression_processors_mapped_once" not in _active:
            return types_of(self)
        kept = self.__dict__.get("_civicsnap_types")
        if kept is None:
            kept = self.__dict__["_civicsnap_types"] = tuple(table(self))
        return kept

    def patched_process(self: Any, node: Any) -> Any:
        if "expression_processors_mapped_once" not in _active:
            return process(self, node)
        for class_key, processor in table(self).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    DepthFirstTraverser.process = patched_process  # type: ignore[method-assign]


UPDATE_EXPRESSIONS_KEPT = 1024


@patch
def update_expressions_parsed_once() -> None:
    """Parse each distinct UpdateExpression once, not twice per UpdateItem (and per transaction Update).

    moto: UpdateExpressionParser.make tokenizes and parses the expression string into a syntax tree; an
    UpdateItem does it twice (the handler, to list the placeholders used, and the backend's update_item),
    a TransactWriteItems twice per Update. civicsnap sends a handful of distinct expressions (its writes
    are built by code, values go in placeholders), so that was the same few trees built again and again:
    ~5 % of the process's CPU.

    Patch: make answers from a cache of the last UPDATE_EXPRESSIONS_KEPT trees, keyed by the expression
    string (an invalid one raises as before and is not kept). Sharing a tree is safe because nothing
    changes one: the handler only reads it (find_clauses), and every Validator works on its own deep copy
    (Validator.__init__: node_to_validate = deepcopy(expression)); the test checks that a kept tree is still
    equal to a fresh parse after use.
    """
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    kept: OrderedDict[str, Any] = OrderedDict()

    def patched_make(cls: Any, expression_str: Any) -> Any:
        if "update_expressions_parsed_once" not in _active or type(expression_str) is not str:
            return make(cls, expression_str)
        tree = kept.get(expression_str)
        if tree is None:
            tree = make(cls, expression_str)
            kept[expression_str] = tree
            if len(kept) > UPDATE_EXPRESSIONS_KEPT:
                kept.popitem(last=False)
        return tree

    UpdateExpressionParser.make = classmethod(patched_make)  # type: ignore[method-assign,assignment]
    UpdateExpressionParser._civicsnap_kept = kept  # for the tests


_ATOMS = (str, int, float, bool, bytes, type(None))


def _copy_tree(value: Any, memo: dict[int, Any], node_class: type) -> Any:
    """copy.deepcopy for expression syntax trees, done directly: a Node (a plain class: no __slots__,
    __deepcopy__, __reduce__ or __getstate__) gets a new instance of its class with a deep copy of its
    __dict__, exactly what copy.deepcopy's __reduce_ex__ path builds; lists and dicts are copied
    element by element; atoms are themselves; anything else goes to copy.deepcopy with the same memo."""
    cls = type(value)
    if cls in _ATOMS:
        return value
    key = id(value)
    if key in memo:
        return memo[key]
    if isinstance(value, node_class):
        clone = object.__new__(cls)
        memo[key] = clone
        clone.__dict__.update({k: _copy_tree(v, memo, node_class) for k, v in value.__dict__.items()})
        return clone
    if cls is list:
        clone = []
        memo[key] = clone
        clone.extend(_copy_tree(v, memo, node_class) for v in value)
        return clone
    if cls is dict:
        clone = {}
        memo[key] = clone
        for k, v in value.items():
            clone[_copy_tree(k, memo, node_class)] = _copy_tree(v, memo, node_class)
        return clone
    return copy.deepcopy(value, memo)


@patch
def expression_trees_copied_directly() -> None:
    """Copy an UpdateExpression's syntax tree directly instead of through copy.deepcopy's generic path.

    moto: every UpdateExpressionValidator starts with deepcopy(expression) — the parse tree, so that
    validating (which replaces placeholders by values and paths by the item's values) leaves the original
    as it was. Tree nodes are plain objects, so copy.deepcopy copies each through __reduce_ex__ and
    _reconstruct: the copy cost as much as the validation itself, 8 % of moto's CPU in `make scale`.

    Patch: the name deepcopy in moto.dynamodb.parsing.validators is a function that builds the same copy
    directly (see _copy_tree: new instance of the node's class, deep copy of its __dict__, the same memo
    so shared nodes and the parent links stay shared) and hands anything that is not a node, list, dict or
    atom — DynamoType values, which have their own __deepcopy__ — to copy.deepcopy.
    """
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    original = validators.deepcopy

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if "expression_trees_copied_directly" not in _active:
            return original(value, memo)
        return _copy_tree(value, {} if memo is None else memo, Node)

    validators.deepcopy = deepcopy  # type: ignore[assignment]


# ---------------------------------------------------------------------------------------------------------
# SQS

SQS_DELETED_RECEIPTS_KEPT = 10_000


class _RecentReceipts(OrderedDict):
    """A set of the most recent receipt handles (insertion order), at most SQS_DELETED_RECEIPTS_KEPT."""

    def update(self, handles: Iterable[str]) -> None:  # type: ignore[override]
        for handle in handles:
            self[handle] = None
            self.move_to_end(handle)
        while len(self) > SQS_DELETED_RECEIPTS_KEPT:
            self.popitem(last=False)

    def add(self, handle: str) -> None:
        self.update([handle])

    def discard(self, handle: str) -> None:
        self.pop(handle, None)


@patch
def sqs_forget_old_receipts() -> None:
    """Remember the receipt handles of the last 10,000 deleted messages per queue, not of all of them.

    moto: Queue.deleted_messages is a set of every receipt handle of every message ever deleted, so that
    deleting one again succeeds as in SQS. It only grows: one entry (a ~100-character string) per
    receive of every message the outbox ever carried.

    Patch: the set becomes an insertion-ordered set of the most recent SQS_DELETED_RECEIPTS_KEPT handles
    (per queue). Deleting a message again with a handle older than that answers ReceiptHandleIsInvalid, as
    SQS does for a handle it no longer knows.
    """
    from moto.sqs.models import Queue

    delete_message = Queue.delete_message

    def patched_delete_message(self: Any, receipt_handle: str) -> None:
        if "sqs_forget_old_receipts" in _active and not isinstance(self.deleted_messages, _RecentReceipts):
            recent = _RecentReceipts()
            recent.update(self.deleted_messages)
            self.deleted_messages = recent
        return delete_message(self, receipt_handle)

    Queue.delete_message = patched_delete_message  # type: ignore[method-assign]
