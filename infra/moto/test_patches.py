"""Unit tests of infra/moto/patches.py: each patch's effect, and that the same check fails without it.

Run: .venv/bin/python -m unittest discover -s infra/moto (go test ./infra/moto runs it too).

The patches are installed once for the process and switched on per test (patches.active); a test named
..._without_patch runs the same scenario with the patch off and asserts moto's stock behaviour, so it is
proven that the check depends on the patch.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
import unittest
from typing import Any
from unittest import mock

import inprocess
import patches

patches.install_all()
ALL = tuple(name for name in patches.PATCHES if name != "keep_stream_shards_on_rollback")
_names = itertools.count()


def fresh(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def S(v: str) -> dict[str, str]:
    return {"S": v}


def N(v: Any) -> dict[str, str]:
    return {"N": str(v)}


class Base(unittest.TestCase):
    db = inprocess.Client("dynamodb")
    streams = inprocess.Client("dynamodbstreams")

    def table(self, **kw: Any) -> str:
        name = fresh(self.id().rsplit(".", 1)[-1][:30])
        inprocess.create_table(
            self.db,
            name,
            keys=kw.get("keys", ("pk", "sk")),
            types=kw.get("types", {"pk": "S", "sk": "S", "g": "S", "gs": "N"}),
            gsis=kw.get("gsis", {"byG": ("g", "gs")}),
            lsis=kw.get("lsis"),
        )
        return name

    def model(self, name: str) -> Any:
        return inprocess.backend().tables[name]

    def put(self, table: str, **attrs: Any) -> None:
        self.db.ok("PutItem", {"TableName": table, "Item": attrs})

    def scan(self, table: str) -> list[dict[str, Any]]:
        items = self.db.ok("Scan", {"TableName": table})["Items"]
        return sorted(items, key=lambda i: (i["pk"].get("S", i["pk"].get("N")), i.get("sk", {}).get("S", "")))

    def records(self, table: str, iterator_type: str = "TRIM_HORIZON") -> list[dict[str, Any]]:
        arn = self.db.ok("DescribeTable", {"TableName": table})["Table"]["LatestStreamArn"]
        shard = self.streams.ok("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
        it = self.streams.ok("GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": iterator_type})
        return self.streams.ok("GetRecords", {"ShardIterator": it["ShardIterator"]})["Records"]


class VersionTest(unittest.TestCase):
    def test_other_moto_version_refused(self) -> None:
        import moto

        with mock.patch.object(moto, "__version__", "5.3.0"), mock.patch.dict("os.environ", {patches.ANY_VERSION_ENV: ""}):
            with self.assertRaisesRegex(RuntimeError, "written against moto 5.2.5 but moto 5.3.0"):
                patches.check_version()
            with self.assertLogs("civicsnap.motopatches", "WARNING"):
                self.assertEqual(patches.check_version(any_version=True), "5.3.0")
        with mock.patch.object(moto, "__version__", "5.3.0"), mock.patch.dict("os.environ", {patches.ANY_VERSION_ENV: "1"}):
            with self.assertLogs("civicsnap.motopatches", "WARNING"):
                self.assertEqual(patches.check_version(), "5.3.0")
        self.assertEqual(patches.check_version(), patches.MOTO_VERSION)

    def test_unknown_patch_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "unknown moto patch"):
            patches.apply(without=["query_index"])

    def test_every_patch_documented(self) -> None:
        for name, fn in patches.PATCHES.items():
            doc = fn.__doc__ or ""
            self.assertGreater(len(doc), 300, f"{name}: the docstring must say what moto does, why, and the fix")


class UntrackTest(Base):
    def scenario(self) -> int:
        from moto.dynamodb.models.dynamo_type import Item

        table = self.table()
        before = len(Item.instances_tracked)
        for i in range(20):
            self.put(table, pk=S("p"), sk=S(f"{i:02}"), g=S("x"), gs=N(i))
            self.db.ok("Query", {"TableName": table, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("p")}})
        return len(Item.instances_tracked) - before

    def test_items_not_kept(self) -> None:
        with patches.active(*ALL):
            self.assertEqual(self.scenario(), 0)

    def test_items_kept_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("untrack_model_instances"):
            # 20 stored items, plus every query result's copies: 1 + 2 + ... + 20
            self.assertGreaterEqual(self.scenario(), 20 + 210)


class EmptyPartitionsTest(Base):
    def scenario(self) -> int:
        table = self.table()
        self.put(table, pk=S("p"), sk=S("1"))
        for i in range(50):
            self.db.ok("GetItem", {"TableName": table, "Key": {"pk": S(f"missing{i}"), "sk": S("1")}})
            self.db.ok("DeleteItem", {"TableName": table, "Key": {"pk": S(f"gone{i}"), "sk": S("1")}})
        self.db.ok("DeleteItem", {"TableName": table, "Key": {"pk": S("p"), "sk": S("1")}})
        self.assertEqual(self.scan(table), [])
        return len(self.model(table).items)

    def test_no_empty_partitions(self) -> None:
        with patches.active(*ALL):
            self.assertEqual(self.scenario(), 0)

    def test_empty_partitions_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("drop_empty_partitions"):
            self.assertEqual(self.scenario(), 101)


class QueryIndexTest(Base):
    """The query patch never walks the table, and its index stays equal to a rebuilt one on every write
    path; answers are compared with stock moto's on the same state (same table, patch switched off)."""

    queries = [
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("p1")}},
        {"KeyConditionExpression": "pk = :p AND sk > :s", "ExpressionAttributeValues": {":p": S("p1"), ":s": S("03")}, "Limit": 2},
        {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "ExpressionAttributeValues": {":p": S("p2"), ":s": S("0")}, "ScanIndexForward": False},
        {"IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": S("x")}, "Limit": 3},
        {"IndexName": "byG", "KeyConditionExpression": "g = :g AND gs BETWEEN :a AND :b", "ExpressionAttributeValues": {":g": S("y"), ":a": N(2), ":b": N(7)}},
        {"IndexName": "byG", "KeyConditionExpression": "g = :g AND gs <= :a", "ExpressionAttributeValues": {":g": S("x"), ":a": N(5)}, "ScanIndexForward": False, "Limit": 1},
    ]

    def answers(self, table: str) -> list[list[Any]]:
        """Every query above paged to the end."""
        out = []
        for q in self.queries:
            body, pages = dict(q, TableName=table), []
            while True:
                page = self.db.ok("Query", body)
                pages.append(page)
                if "LastEvaluatedKey" not in page:
                    break
                body["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            out.append(pages)
        return out

    def assert_same_as_stock(self, table: str) -> None:
        patches.check_index(self.model(table))
        with patches.inactive("query_indexes"):
            want = self.answers(table)
        self.assertEqual(self.answers(table), want)
        patches.check_index(self.model(table))

    def fill(self, table: str) -> None:
        for i in range(12):
            self.put(table, pk=S(f"p{i % 3}"), sk=S(f"{i:02}"), g=S("xy"[i % 2]), gs=N(i % 9), n=N(i))

    def test_query_never_walks_the_table(self) -> None:
        from moto.dynamodb.models.table import Table

        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            with mock.patch.object(Table, "all_items", side_effect=AssertionError("Query walked the whole table")):
                self.answers(table)

    def test_query_walks_the_table_without_patch(self) -> None:
        from moto.dynamodb.models.table import Table

        with patches.active(*ALL), patches.inactive("query_indexes"):
            table = self.table()
            self.fill(table)
            with mock.patch.object(Table, "all_items", side_effect=AssertionError("walked")):
                with self.assertRaises(AssertionError):
                    self.answers(table)

    def test_every_write_path_keeps_the_index(self) -> None:
        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            self.answers(table)  # builds the index
            self.assert_same_as_stock(table)
            steps = [
                ("PutItem replaces", lambda: self.put(table, pk=S("p1"), sk=S("04"), g=S("y"), gs=N(3))),
                ("PutItem creates", lambda: self.put(table, pk=S("p1"), sk=S("99"), g=S("x"), gs=N(1))),
                ("UpdateItem moves GSI key", lambda: self.update(table, "p1", "07", "SET g = :v, gs = :n", {":v": S("y"), ":n": N(8)})),
                ("UpdateItem removes GSI key", lambda: self.update(table, "p0", "00", "REMOVE gs", {})),
                ("UpdateItem adds GSI key", lambda: self.update(table, "p0", "00", "SET gs = :n", {":n": N(4)})),
                ("UpdateItem creates", lambda: self.update(table, "p2", "50", "SET g = :v, gs = :n", {":v": S("x"), ":n": N(0)})),
                ("UpdateItem fails its condition", lambda: self.db.error("UpdateItem", {
                    "TableName": table, "Key": {"pk": S("p2"), "sk": S("50")}, "UpdateExpression": "SET gs = :n",
                    "ConditionExpression": "attribute_not_exists(pk)", "ExpressionAttributeValues": {":n": N(9)}})),
                ("DeleteItem", lambda: self.db.ok("DeleteItem", {"TableName": table, "Key": {"pk": S("p1"), "sk": S("01")}})),
                ("BatchWriteItem", lambda: self.db.ok("BatchWriteItem", {"RequestItems": {table: [
                    {"PutRequest": {"Item": {"pk": S("p0"), "sk": S("60"), "g": S("x"), "gs": N(2)}}},
                    {"DeleteRequest": {"Key": {"pk": S("p0"), "sk": S("03")}}}]}})),
                ("TransactWriteItems commits", lambda: self.db.ok("TransactWriteItems", {"TransactItems": [
                    {"Put": {"TableName": table, "Item": {"pk": S("p2"), "sk": S("70"), "g": S("y"), "gs": N(5)}}},
                    {"Update": {"TableName": table, "Key": {"pk": S("p2"), "sk": S("02")}, "UpdateExpression": "SET g = :v",
                                "ExpressionAttributeValues": {":v": S("x")}}},
                    {"Delete": {"TableName": table, "Key": {"pk": S("p2"), "sk": S("05")}}}]})),
                ("TransactWriteItems cancelled", lambda: self.db.error("TransactWriteItems", {"TransactItems": [
                    {"Put": {"TableName": table, "Item": {"pk": S("p2"), "sk": S("71"), "g": S("y"), "gs": N(5)}}},
                    {"Update": {"TableName": table, "Key": {"pk": S("p2"), "sk": S("70")}, "UpdateExpression": "SET gs = :n",
                                "ExpressionAttributeValues": {":n": N(1)}}},
                    {"Delete": {"TableName": table, "Key": {"pk": S("p2"), "sk": S("02")}}},
                    {"ConditionCheck": {"TableName": table, "Key": {"pk": S("p0"), "sk": S("00")},
                                        "ConditionExpression": "attribute_not_exists(pk)"}}]})),
                ("PartiQL UPDATE", lambda: self.db.ok("ExecuteStatement", {
                    "Statement": f"UPDATE \"{table}\" SET g='x' WHERE pk='p2' AND sk='08'"})),
                ("PartiQL INSERT", lambda: self.db.ok("ExecuteStatement", {
                    "Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'p0', 'sk': '80', 'g': 'y', 'gs': 6}}"})),
                ("PartiQL DELETE", lambda: self.db.ok("ExecuteStatement", {
                    "Statement": f"DELETE FROM \"{table}\" WHERE pk='p0' AND sk='06'"})),
            ]
            for name, step in steps:
                with self.subTest(step=name):
                    step()
                    self.assert_same_as_stock(table)
            self.assertEqual(patches.stats["query_error"], 0)
            self.assertEqual(patches.stats["index_inconsistent"], 0)

    def update(self, table: str, pk: str, sk: str, expression: str, values: dict[str, Any]) -> None:
        body = {"TableName": table, "Key": {"pk": S(pk), "sk": S(sk)}, "UpdateExpression": expression}
        if values:
            body["ExpressionAttributeValues"] = values
        self.db.ok("UpdateItem", body)

    def test_index_added_and_table_recreated(self) -> None:
        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            self.answers(table)
            self.db.ok("UpdateTable", {
                "TableName": table,
                "AttributeDefinitions": [{"AttributeName": "n", "AttributeType": "N"}, {"AttributeName": "pk", "AttributeType": "S"}],
                "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "byN", "KeySchema": inprocess.key_schema("pk", "n"),
                                                           "Projection": {"ProjectionType": "ALL"}}}]})
            q = {"TableName": table, "IndexName": "byN", "KeyConditionExpression": "pk = :p AND n >= :n",
                 "ExpressionAttributeValues": {":p": S("p1"), ":n": N(4)}}
            got = self.db.ok("Query", q)
            with patches.inactive("query_indexes"):
                self.assertEqual(got, self.db.ok("Query", q))
            self.assertEqual([i["n"]["N"] for i in got["Items"]], ["4", "7", "10"])

            self.db.ok("DeleteTable", {"TableName": table})
            inprocess.create_table(self.db, table, ("pk", "sk"), {"pk": "S", "sk": "S", "g": "S", "gs": "N"}, {"byG": ("g", "gs")})
            self.assertEqual(self.answers(table)[0][0]["Items"], [])
            self.put(table, pk=S("p1"), sk=S("1"), g=S("x"), gs=N(1))
            self.assert_same_as_stock(table)

    def test_fallbacks_answer_like_stock(self) -> None:
        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            cases = {
                "legacy QueryFilter": {"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S("p1")]}},
                                       "QueryFilter": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [N(3)]}}},
                "start key missing its range": {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("p1")},
                                                "ExclusiveStartKey": {"pk": S("p1")}},
            }
            for name, q in cases.items():
                with self.subTest(case=name):
                    body = dict(q, TableName=table)
                    before = patches.stats["query_fallback"]
                    got = self.db.call("Query", body)
                    self.assertEqual(patches.stats["query_fallback"], before + 1)
                    with patches.inactive("query_indexes"):
                        self.assertEqual(got, self.db.call("Query", body))

    def test_invalid_numbers_answer_like_stock(self) -> None:
        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            errors = patches.stats["query_error"]
            for body in [
                {"IndexName": "byG", "KeyConditionExpression": "g = :g AND gs > :n", "ExpressionAttributeValues": {":g": S("x"), ":n": N("x1")}},
                {"IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": S("x")},
                 "ExclusiveStartKey": {"g": S("x"), "gs": N("1e"), "pk": S("p0"), "sk": S("00")}},
            ]:
                body["TableName"] = table
                got = self.db.call("Query", body)
                with patches.inactive("query_indexes"):
                    self.assertEqual(got, self.db.call("Query", body))
            self.assertEqual(patches.stats["query_error"], errors)
            status, _ = self.db.error("TransactWriteItems", {"TransactItems": [
                {"Put": {"TableName": table, "Item": {"pk": S("p0"), "sk": S("zz"), "gs": N("abc")}}}]})
            self.assertEqual(status, 400)
            self.assert_same_as_stock(table)

    def test_undeclared_key_type_falls_back(self) -> None:
        with patches.active(*ALL):
            table = self.table()
            self.fill(table)
            self.answers(table)
            # moto does not check index key types: an item with gs as a string is stored, and moto's sort of
            # the index would mix str and Decimal; the patch leaves such an index to moto
            self.put(table, pk=S("p9"), sk=S("1"), g=S("z"), gs=S("oops"))
            q = {"TableName": table, "IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": S("x")}}
            before = patches.stats["query_fallback"]
            got = self.db.call("Query", q)
            self.assertEqual(patches.stats["query_fallback"], before + 1)
            with patches.inactive("query_indexes"):
                self.assertEqual(got, self.db.call("Query", q))
            self.db.ok("DeleteItem", {"TableName": table, "Key": {"pk": S("p9"), "sk": S("1")}})
            self.assert_same_as_stock(table)


class TransactionTest(Base):
    """A cancelled transaction leaves exactly the state before it — items, index, stream — however and
    wherever it fails, and never copies a table."""

    def scenarios(self, table: str) -> dict[str, list[dict[str, Any]]]:
        def put(sk: str, cond: bool = False, **extra: Any) -> dict[str, Any]:
            op: dict[str, Any] = {"TableName": table, "Item": {"pk": S("p"), "sk": S(sk), "g": S("x"), "gs": N(1), **extra}}
            if cond:
                op["ConditionExpression"] = "attribute_not_exists(pk)"
            return {"Put": op}

        def update(sk: str, cond: bool = False) -> dict[str, Any]:
            op: dict[str, Any] = {"TableName": table, "Key": {"pk": S("p"), "sk": S(sk)},
                                  "UpdateExpression": "SET gs = gs + :one, g = :y ADD n :one",
                                  "ExpressionAttributeValues": {":one": N(1), ":y": S("y")}}
            if cond:
                op["ConditionExpression"] = "attribute_exists(pk)"
            return {"Update": op}

        def create(sk: str) -> dict[str, Any]:
            return {"Update": {"TableName": table, "Key": {"pk": S("q"), "sk": S(sk)}, "UpdateExpression": "SET g = :y, gs = :one",
                               "ExpressionAttributeValues": {":one": N(1), ":y": S("y")}}}

        def delete(sk: str) -> dict[str, Any]:
            return {"Delete": {"TableName": table, "Key": {"pk": S("p"), "sk": S(sk)}}}

        def fails(sk: str = "a") -> dict[str, Any]:
            return {"ConditionCheck": {"TableName": table, "Key": {"pk": S("p"), "sk": S(sk)},
                                       "ConditionExpression": "attribute_not_exists(pk)"}}

        return {
            "fails first": [fails(), put("new1"), update("b"), delete("c")],
            "fails in the middle": [put("new1"), create("new2"), fails(), update("b"), delete("c")],
            "fails last": [put("b"), update("c"), delete("d"), create("new3"), fails()],
            "put over an existing item fails": [update("b"), put("c", cond=True)],
            "update of a missing item fails": [delete("b"), put("new4"), update("zz", cond=True)],
            "same key twice": [put("b"), update("b")],
            "several tables": [put("new5"), {"Put": {"TableName": table + "-other", "Item": {"pk": S("o"), "sk": S("1")}}},
                               {"Delete": {"TableName": table + "-other", "Key": {"pk": S("o"), "sk": S("0")}}}, fails()],
        }

    def run_scenarios(self) -> None:
        for name in self.scenarios("x"):
            with self.subTest(scenario=name):
                table = self.table()
                other = table + "-other"
                inprocess.create_table(self.db, other, ("pk", "sk"), {"pk": "S", "sk": "S"})
                for sk in "abcd":
                    self.put(table, pk=S("p"), sk=S(sk), g=S("x"), gs=N(ord(sk)), n=N(0))
                self.put(other, pk=S("o"), sk=S("0"))
                q = {"TableName": table, "IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": S("x")}}
                self.db.ok("Query", q)  # build the index
                before = (self.scan(table), self.scan(other), self.records(table), self.db.ok("Query", q))
                status, _ = self.db.error("TransactWriteItems", {"TransactItems": self.scenarios(table)[name]})
                self.assertEqual(status, 400)
                after = (self.scan(table), self.scan(other), self.records(table), self.db.ok("Query", q))
                self.assertEqual(after, before)
                if patches.is_active("query_indexes"):
                    patches.check_index(self.model(table))

    def test_rollback_is_exact(self) -> None:
        with patches.active(*ALL):
            self.run_scenarios()

    def test_rollback_is_exact_on_stock_moto(self) -> None:
        # the scenarios are right about moto's own semantics too
        with patches.inactive():
            self.run_scenarios()

    def table_copies(self) -> int:
        from moto.dynamodb.models.table import Table

        table = self.table()
        for i in range(5):
            self.put(table, pk=S("p"), sk=S(str(i)))
        copies = 0
        real = Table.__deepcopy__ if hasattr(Table, "__deepcopy__") else None

        def count(self_: Any, memo: Any) -> Any:
            nonlocal copies
            copies += 1
            clone = Table.__new__(Table)
            memo[id(self_)] = clone
            import copy as _copy

            for k, v in self_.__dict__.items():
                setattr(clone, k, _copy.deepcopy(v, memo))
            return clone

        with mock.patch.object(Table, "__deepcopy__", count, create=real is None):
            self.db.ok("TransactWriteItems", {"TransactItems": [
                {"Put": {"TableName": table, "Item": {"pk": S("p"), "sk": S("9")}}},
                {"Delete": {"TableName": table, "Key": {"pk": S("p"), "sk": S("0")}}}]})
            self.db.error("TransactWriteItems", {"TransactItems": [
                {"Put": {"TableName": table, "Item": {"pk": S("p"), "sk": S("8")}}},
                {"ConditionCheck": {"TableName": table, "Key": {"pk": S("p"), "sk": S("1")},
                                    "ConditionExpression": "attribute_not_exists(pk)"}}]})
        self.assertEqual(len(self.scan(table)), 5)
        return copies

    def test_no_table_copied(self) -> None:
        with patches.active(*ALL):
            self.assertEqual(self.table_copies(), 0)

    def test_tables_copied_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("transaction_undo_log"):
            self.assertEqual(self.table_copies(), 4)  # stock moto: one copy per operation

    def test_stream_reader_survives_rollback(self) -> None:
        # a reader positioned before a cancelled transaction sees what comes after it, not what was undone
        for label, on in [("undo log", ALL), ("legacy keep_stream_shards_on_rollback", tuple(n for n in patches.PATCHES if n != "transaction_undo_log"))]:
            with self.subTest(patch=label), patches.inactive(), patches.active(*on):
                table = self.table()
                arn = self.db.ok("DescribeTable", {"TableName": table})["Table"]["LatestStreamArn"]
                shard = self.streams.ok("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
                it = self.streams.ok("GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "LATEST"})["ShardIterator"]
                self.put(table, pk=S("a"), sk=S("1"))
                self.db.error("TransactWriteItems", {"TransactItems": [
                    {"Put": {"TableName": table, "Item": {"pk": S("b"), "sk": S("1")}}},
                    {"Put": {"TableName": table, "Item": {"pk": S("a"), "sk": S("1")}, "ConditionExpression": "attribute_not_exists(pk)"}}]})
                self.put(table, pk=S("c"), sk=S("1"))
                got = self.streams.ok("GetRecords", {"ShardIterator": it})["Records"]
                self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in got], ["a", "c"])
                seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
                self.assertEqual(seqs[1], seqs[0] + 1)


class SerializerTest(Base):
    """GetItem of a wide item: the generic serializer looks every member of every AttributeValue up."""

    def lookups(self) -> tuple[int, Any]:
        from moto.core.serialize import XFormedAttributePicker

        table = self.table()
        item = {"pk": S("p"), "sk": S("1"), **{f"a{i}": {"M": {"x": S("y"), "n": N(i), "l": {"L": [{"BOOL": True}]}}} for i in range(40)}}
        self.put(table, **item)
        calls = 0
        real = XFormedAttributePicker.__call__

        def counting(self_: Any, context: Any) -> Any:
            nonlocal calls
            calls += 1
            return real(self_, context)

        with mock.patch.object(XFormedAttributePicker, "__call__", counting):
            got = self.db.ok("GetItem", {"TableName": table, "Key": {"pk": S("p"), "sk": S("1")}})["Item"]
        self.assertEqual(got, item)
        return calls, got

    def test_attribute_values_serialized_directly(self) -> None:
        with patches.active(*ALL):
            calls, _ = self.lookups()
        self.assertLess(calls, 10)

    def test_attribute_values_walked_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("fast_attribute_values"):
            calls, _ = self.lookups()
        self.assertGreater(calls, 40 * 4 * 10)


class FakeClock:
    # starts at the real time: iterators issued by earlier tests (stamped with time.time()) must not look
    # like they come from the future, or they would hold up the expiry of those behind them
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class StreamExpiryTest(Base):
    def setUp(self) -> None:
        self.clock = FakeClock()
        for target, value in [("clock", self.clock), ("stream_retention_seconds", 3200.0), ("shard_iterator_lifetime_seconds", 900.0)]:
            p = mock.patch.object(patches, target, value)
            p.start()
            self.addCleanup(p.stop)

    def stream(self, table: str) -> tuple[str, str]:
        arn = self.db.ok("DescribeTable", {"TableName": table})["Table"]["LatestStreamArn"]
        shard = self.streams.ok("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
        return arn, shard["ShardId"]

    def iterator(self, table: str, kind: str, seq: str | None = None) -> str:
        arn, shard = self.stream(table)
        body = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind}
        if seq is not None:
            body["SequenceNumber"] = seq
        return self.streams.ok("GetShardIterator", body)["ShardIterator"]

    def scenario(self) -> tuple[str, list[str], str]:
        """Ten records at t0, ten an hour later; returns the table, the first hour's sequence numbers and an
        iterator issued at t0 at TRIM_HORIZON."""
        table = self.table()
        old = self.iterator(table, "TRIM_HORIZON")
        for i in range(10):
            self.put(table, pk=S("old"), sk=S(str(i)))
        first = [r["dynamodb"]["SequenceNumber"] for r in self.records(table)]
        self.clock.now += 3600
        for i in range(10):
            self.put(table, pk=S("new"), sk=S(str(i)))
        return table, first, old

    def test_records_expire(self) -> None:
        with patches.active(*ALL):
            table, first, old = self.scenario()
            kept = self.records(table)
            self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in kept], ["new"] * 10)
            seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in kept]
            self.assertEqual(seqs, list(range(int(first[-1]) + 1, int(first[-1]) + 11)))  # numbering goes on
            self.assertEqual(len(self.model(table).stream_shard.items), 10)
            # positions that were trimmed answer TrimmedDataAccessException, as in DynamoDB
            self.assertEqual(self.streams.error("GetRecords", {"ShardIterator": old}), (400, "TrimmedDataAccessException"))
            arn, shard = self.stream(table)
            for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
                self.assertEqual(self.streams.error("GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind,
                                                                         "SequenceNumber": first[0]}), (400, "TrimmedDataAccessException"))
            # after the last trimmed record is the first kept one; LATEST is after the last
            it = self.iterator(table, "AFTER_SEQUENCE_NUMBER", first[-1])
            self.assertEqual(len(self.streams.ok("GetRecords", {"ShardIterator": it})["Records"]), 10)
            latest = self.iterator(table, "LATEST")
            self.put(table, pk=S("newest"), sk=S("1"))
            got = self.streams.ok("GetRecords", {"ShardIterator": latest})["Records"]
            self.assertEqual([int(r["dynamodb"]["SequenceNumber"]) for r in got], [seqs[-1] + 1])
            # DescribeStream still names the shard's first sequence number
            desc = self.streams.ok("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
            self.assertEqual(desc["SequenceNumberRange"]["StartingSequenceNumber"], first[0])

    def test_records_kept_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("stream_shards_expire"):
            table, first, old = self.scenario()
            self.assertEqual(len(self.records(table)), 20)
            self.assertEqual(len(self.streams.ok("GetRecords", {"ShardIterator": old})["Records"]), 20)

    def test_iterators_expire(self) -> None:
        streams = inprocess.backend("dynamodbstreams")
        with patches.active(*ALL):
            table = self.table()
            stale = self.iterator(table, "LATEST")
            it = self.iterator(table, "LATEST")
            for minute in range(60):
                self.clock.now += 60
                self.put(table, pk=S("p"), sk=S(str(minute)))
                it = self.streams.ok("GetRecords", {"ShardIterator": it})["NextShardIterator"]
            self.assertEqual(self.streams.error("GetRecords", {"ShardIterator": stale}), (400, "ExpiredIteratorException"))
            self.assertEqual(self.streams.error("GetRecords", {"ShardIterator": "never-issued"}), (400, "ExpiredIteratorException"))
            # one iterator issued a minute, 15 minutes' worth kept
            self.assertLessEqual(len(streams.shard_iterators), 16)
            self.assertEqual(len(self.streams.ok("GetRecords", {"ShardIterator": it})["Records"]), 0)

    def test_iterators_kept_without_patch(self) -> None:
        streams = inprocess.backend("dynamodbstreams")
        with patches.active(*ALL), patches.inactive("shard_iterators_expire"):
            table = self.table()
            before = len(streams.shard_iterators)
            it = self.iterator(table, "LATEST")
            for minute in range(60):
                self.clock.now += 60
                it = self.streams.ok("GetRecords", {"ShardIterator": it})["NextShardIterator"]
            self.assertEqual(len(streams.shard_iterators) - before, 61)
            self.assertEqual(self.streams.call("GetRecords", {"ShardIterator": "never-issued"})[0], 500)


def deep_size(root: Any) -> int:
    """Bytes of root and of every object it reaches through dicts, lists, tuples, __dict__ and __slots__."""
    import sys

    seen: set[int] = set()
    total, stack = 0, [root]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        if hasattr(o, "__dict__"):
            stack.append(vars(o))
        for slot in getattr(type(o), "__slots__", ()):
            if hasattr(o, slot):
                stack.append(getattr(o, slot))
    return total


class CompactStreamRecordsTest(Base):
    """Report-like items written, updated and deleted: what the shard keeps per record, and what
    GetRecords answers."""

    ITEM = {
        "sk": S("REPORT"), "g": S("area#0451"), "gs": N(1764489600), "status": S("dispatched"),
        "category": S("road.pothole"), "description": S("A pothole about 40 cm wide in the right lane " * 3),
        "location": {"M": {"lat": N("23.3961"), "lng": N("103.3756"), "geohash": S("wk3n2v8")}},
        "photos": {"L": [{"M": {"key": S(f"photos/u1/{i}.jpg"), "bytes": N(30211)}} for i in range(3)]},
        "tags": {"SS": ["night", "traffic"]}, "blob": {"B": "AAEC/w=="}, "urgent": {"BOOL": True}, "none": {"NULL": True},
    }

    def scenario(self) -> tuple[int, list[dict[str, Any]]]:
        table = self.table()
        for i in range(20):
            self.put(table, pk=S(f"REPORT#{i:04}"), **self.ITEM)
            self.db.ok("UpdateItem", {"TableName": table, "Key": {"pk": S(f"REPORT#{i:04}"), "sk": S("REPORT")},
                                      "UpdateExpression": "SET #s = :s ADD gs :one",
                                      "ExpressionAttributeNames": {"#s": "status"},
                                      "ExpressionAttributeValues": {":s": S("resolved"), ":one": N(1)}})
            if i % 5 == 0:
                self.db.ok("DeleteItem", {"TableName": table, "Key": {"pk": S(f"REPORT#{i:04}"), "sk": S("REPORT")}})
        records = self.records(table)
        for r in records:  # random or clock-dependent (SizeBytes counts the timestamp's and number's text)
            r.pop("eventID")
            for k in ("ApproximateCreationDateTime", "SequenceNumber", "SizeBytes"):
                r["dynamodb"].pop(k)
        kept = self.model(table).stream_shard.items
        return deep_size(kept) // len(kept), records

    def test_records_kept_compact(self) -> None:
        with patches.active(*ALL):
            per_record, got = self.scenario()
        with patches.active(*ALL), patches.inactive("compact_stream_records"):
            _, want = self.scenario()
        self.assertEqual(len(got), 44)
        self.assertEqual(got, want)  # GetRecords answers as stock moto does
        self.assertEqual(got[1]["dynamodb"]["OldImage"]["location"], self.ITEM["location"])
        self.assertLess(per_record, 2000)

    def test_records_kept_as_dicts_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("compact_stream_records"):
            per_record, _ = self.scenario()
        self.assertGreater(per_record, 8000)


class ModulesListedOnceTest(unittest.TestCase):
    """Requests through moto's DomainDispatcherApplication (what serve.py serves): how many directory
    listings they cost."""

    def listings(self) -> int:
        import os

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.test import Client

        app = DomainDispatcherApplication(create_backend_app)
        client = Client(app)
        headers = {
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        }
        client.post("/", data="{}", headers=headers)  # the first one lists
        with mock.patch.object(os, "listdir", wraps=os.listdir) as listdir:
            for _ in range(10):
                response = client.post("/", data="{}", headers=headers)
                self.assertEqual(response.status_code, 200)
                self.assertIn("TableNames", json.loads(response.get_data()))
            return listdir.call_count

    def test_listed_once(self) -> None:
        with patches.active(*ALL):
            self.assertEqual(self.listings(), 0)

    def test_listed_per_request_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("moto_modules_listed_once"):
            self.assertEqual(self.listings(), 10)


class ActionLookupTest(Base):
    def getmembers_calls(self) -> int:
        import inspect

        table = self.table()
        with mock.patch.object(inspect, "getmembers", wraps=inspect.getmembers) as getmembers:
            for i in range(10):
                self.put(table, pk=S("p"), sk=S(str(i)))
            self.assertEqual(len(self.scan(table)), 10)
            return getmembers.call_count

    def test_handler_inspected_once(self) -> None:
        with patches.active(*ALL):
            self.getmembers_calls()  # the handler class is inspected at most once
            self.assertEqual(self.getmembers_calls(), 0)

    def test_handler_inspected_per_request_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("action_lookup_cached"):
            self.assertEqual(self.getmembers_calls(), 11)


class ItemSizeTest(Base):
    def size_calls(self) -> int:
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self.table()
        calls = 0
        real = DynamoType.size

        def counting(self_: Any) -> int:
            nonlocal calls
            calls += 1
            return real(self_)

        item = {"pk": S("p"), "sk": S("1"), **{f"a{i:02}": S("x" * i) for i in range(40)},
                "m": {"M": {f"k{i}": {"M": {"n": N(i)}} for i in range(5)}}}
        with mock.patch.object(DynamoType, "size", counting):
            self.put(table, **item)
        got = self.db.ok("GetItem", {"TableName": table, "Key": {"pk": S("p"), "sk": S("1")}})["Item"]
        self.assertEqual(got, item)
        # the 400 KB limit where moto puts it: 405,000 bytes of names and values
        self.put(table, pk=S("p"), sk=S("big"), blob=S("x" * (405000 - len("pkpsksigblob") - 1)))
        status, kind = self.db.error("PutItem", {"TableName": table, "Item": {"pk": S("p"), "sk": S("big2"), "blob": S("x" * 405000)}})
        self.assertEqual((status, kind), (400, "ValidationException"))
        return calls

    def test_sized_once(self) -> None:
        with patches.active(*ALL):
            self.assertLess(self.size_calls(), 100)

    def test_sized_quadratically_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("item_size_summed_once"):
            self.assertGreater(self.size_calls(), 40 * 41 // 2)


class ExpressionProcessorsTest(Base):
    """An UpdateItem setting, adding and removing attributes in a nested map, with a condition."""

    def map_builds(self) -> tuple[int, Any]:
        from moto.dynamodb.parsing import validators

        table = self.table()
        self.put(table, pk=S("p"), sk=S("1"), m={"M": {"a": N(1), "b": S("x")}}, n=N(5), gone=S("y"))
        builds = 0
        originals = {cls: cls._processing_map for cls in vars(validators).values()
                     if isinstance(cls, type) and "_processing_map" in vars(cls)}

        def counting(real: Any) -> Any:
            def wrapper(self_: Any) -> Any:
                nonlocal builds
                builds += 1
                return real(self_)
            return wrapper

        with contextlib.ExitStack() as stack:
            for cls, real in originals.items():
                stack.enter_context(mock.patch.object(cls, "_processing_map", counting(real)))
            out = self.db.ok("UpdateItem", {
                "TableName": table, "Key": {"pk": S("p"), "sk": S("1")}, "ReturnValues": "ALL_NEW",
                "UpdateExpression": "SET m.a = m.a + :one, m.c = :c, #s = if_not_exists(#s, :s) ADD n :one REMOVE gone",
                "ConditionExpression": "attribute_exists(m.b) AND n < :ten",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":one": N(1), ":c": {"L": [S("l")]}, ":s": S("open"), ":ten": N(10)}})
        return builds, out["Attributes"]

    def test_mapped_once_per_processor(self) -> None:
        with patches.active(*ALL):
            builds, got = self.map_builds()
        with patches.active(*ALL), patches.inactive("expression_processors_mapped_once"):
            _, want = self.map_builds()
        self.assertEqual(got, want)
        self.assertEqual(got["m"], {"M": {"a": N(2), "b": S("x"), "c": {"L": [S("l")]}}})
        self.assertLessEqual(builds, 12)  # one per processor

    def test_mapped_per_node_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("expression_processors_mapped_once"):
            builds, _ = self.map_builds()
        self.assertGreater(builds, 100)


class UpdateScenario(Base):
    """UpdateItems and transaction Updates with one expression of every clause kind (no tests of its own)."""

    EXPRESSION = "SET #s = :s, m.a = if_not_exists(m.a, :zero) + :one, l = list_append(l, :l) ADD n :one REMOVE gone"

    def parses(self) -> tuple[int, list[Any]]:
        from moto.dynamodb.parsing.tokens import ExpressionTokenizer

        table = self.table()
        got = []
        with mock.patch.object(ExpressionTokenizer, "make_list", wraps=ExpressionTokenizer.make_list) as tokenize:
            for i in range(5):
                self.put(table, pk=S("p"), sk=S(str(i)), m={"M": {}}, l={"L": []}, gone=S("x"))
                values = {":s": S(f"s{i}"), ":zero": N(0), ":one": N(i), ":l": {"L": [N(i)]}}
                got.append(self.db.ok("UpdateItem", {
                    "TableName": table, "Key": {"pk": S("p"), "sk": S(str(i))}, "ReturnValues": "ALL_NEW",
                    "UpdateExpression": self.EXPRESSION, "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": values})["Attributes"])
                self.db.ok("TransactWriteItems", {"TransactItems": [{"Update": {
                    "TableName": table, "Key": {"pk": S("p"), "sk": S(str(i))}, "UpdateExpression": self.EXPRESSION,
                    "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values}}]})
                got.append(self.db.ok("GetItem", {"TableName": table, "Key": {"pk": S("p"), "sk": S(str(i))}})["Item"])
            self.assertEqual(self.db.error("UpdateItem", {"TableName": table, "Key": {"pk": S("p"), "sk": S("0")},
                                                         "UpdateExpression": "SET = :x"})[0], 400)
            return tokenize.call_count, got

    def tree(self, node: Any) -> Any:
        """A node's structure: its type and every attribute but its parent, recursively."""
        from moto.dynamodb.parsing.ast_nodes import Node

        if isinstance(node, Node):
            return type(node).__name__, {k: self.tree(v) for k, v in vars(node).items() if k != "parent"}
        if isinstance(node, (list, tuple)):
            return [self.tree(v) for v in node]
        if isinstance(node, dict):
            return {k: self.tree(v) for k, v in node.items()}
        return node


class UpdateExpressionsTest(UpdateScenario):
    def test_parsed_once(self) -> None:
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser

        with patches.active(*ALL):
            calls, got = self.parses()
        with patches.active(*ALL), patches.inactive("update_expressions_parsed_once"):
            _, want = self.parses()
        self.assertEqual(got, want)
        self.assertEqual(got[-1]["m"], {"M": {"a": N(8)}})  # 4 added twice
        self.assertLessEqual(calls, 2)  # this expression (if not kept from an earlier test) and the invalid one
        kept = UpdateExpressionParser._civicsnap_kept[self.EXPRESSION]
        with patches.inactive("update_expressions_parsed_once"):
            fresh = UpdateExpressionParser.make(self.EXPRESSION)
        self.assertEqual(self.tree(kept), self.tree(fresh))  # used ten times, never changed

    def test_parsed_per_use_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("update_expressions_parsed_once"):
            calls, _ = self.parses()
        self.assertGreaterEqual(calls, 20)


class ExpressionTreeCopyTest(UpdateScenario):
    def reconstructs(self) -> tuple[int, list[Any]]:
        import copy as copy_module

        with mock.patch.object(copy_module, "_reconstruct", wraps=copy_module._reconstruct) as reconstruct:
            _, got = self.parses()
            return reconstruct.call_count, got

    def test_trees_copied_directly(self) -> None:
        from moto.dynamodb.parsing import validators

        with patches.active(*ALL):
            calls, got = self.reconstructs()
        with patches.active(*ALL), patches.inactive("expression_trees_copied_directly"):
            _, want = self.reconstructs()
        self.assertEqual(got, want)
        self.assertEqual(calls, 0)
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser

        tree = UpdateExpressionParser.make(self.EXPRESSION)
        with patches.active(*ALL):
            fast = validators.deepcopy(tree)
        with patches.inactive("expression_trees_copied_directly"):
            slow = validators.deepcopy(tree)
        self.assertEqual(self.tree(fast), self.tree(slow))
        self.assertIsNot(fast.children[0], tree.children[0])
        self.assertIs(fast.children[0].parent, fast)  # parent links point into the copy

    def test_trees_reconstructed_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("expression_trees_copied_directly"):
            calls, _ = self.reconstructs()
        self.assertGreater(calls, 100)


class SQSReceiptsTest(unittest.TestCase):
    sqs = inprocess.Client("sqs")

    def scenario(self) -> Any:
        url = self.sqs.ok("CreateQueue", {"QueueName": fresh("receipts")})["QueueUrl"]
        handles = []
        for i in range(30):
            self.sqs.ok("SendMessage", {"QueueUrl": url, "MessageBody": str(i)})
            msg = self.sqs.ok("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 0})["Messages"][0]
            self.sqs.ok("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": msg["ReceiptHandle"]})
            handles.append(msg["ReceiptHandle"])
        self.sqs.ok("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": handles[-1]})  # again: fine
        return inprocess.backend("sqs").queues[url.rsplit("/", 1)[-1]]

    def test_deleted_receipts_bounded(self) -> None:
        with patches.active(*ALL), mock.patch.object(patches, "SQS_DELETED_RECEIPTS_KEPT", 5):
            self.assertEqual(len(self.scenario().deleted_messages), 5)

    def test_deleted_receipts_grow_without_patch(self) -> None:
        with patches.active(*ALL), patches.inactive("sqs_forget_old_receipts"):
            self.assertGreaterEqual(len(self.scenario().deleted_messages), 30)


if __name__ == "__main__":
    unittest.main()
