"""Differential suite: patched moto and stock moto answer the same random workload identically.

This is the suite that tells at once what a moto upgrade broke. Two moto DynamoDB backends run in this
process — patched in us-east-1, stock (every patch switched off) in us-west-2 — and every request of a
seeded random workload goes to both: tables with GSIs (with and without a range key), an LSI, N and S keys;
puts, updates that move, add and remove index keys, conditional deletes, batch writes, transactions (some
cancelled at a random position, some naming one key twice), GetItem and BatchGetItem; and Queries with every key condition operator,
both directions, Limit, FilterExpression, projection, Select COUNT and ExclusiveStartKey (moto's own
LastEvaluatedKey, paged to the end, or one made up from a random item). Every answer — status, body — must
be identical, and so must, at the end, each table's items and stream records; the patched backend's query
indexes must equal ones rebuilt from scratch.

CIVICSNAP_DIFF_SEEDS=1,2,3 and CIVICSNAP_DIFF_STEPS=N run other or longer workloads (defaults: seeds 1-3,
100 steps each, a few seconds; CIVICSNAP_DIFF_SEEDS=$(seq -s, 1 50) CIVICSNAP_DIFF_STEPS=600 runs for
minutes and is the thing to run after changing patches.py).
"""

from __future__ import annotations

import os
import random
import unittest
from typing import Any

import inprocess
import patches

patches.install_all()
ALL = tuple(name for name in patches.PATCHES if name != "keep_stream_shards_on_rollback")

SEEDS = [int(s) for s in os.environ.get("CIVICSNAP_DIFF_SEEDS", "1,2,3").split(",") if s]
STEPS = int(os.environ.get("CIVICSNAP_DIFF_STEPS", "100"))

# Small domains, so that partitions hold several items and conditions hit and miss. The strings sort
# differently by code point than by UTF-16 ("😀" after "\uffff"), and "1.50" equals "1.5" as a number.
STRINGS = ["a", "b", "ab", "abc", "b\u00e9", "\u4e2d", "\uff5e", "\U0001f600", "B", "0", "aa", "ba"]
NUMBERS = ["-3", "0", "0.5", "1", "1.5", "1.50", "2", "10", "12", "100"]
# Attribute values of every type, for the response serializer (patch fast_attribute_values).
MISC = [
    {"B": "AAEC/w=="},
    {"BS": ["AA==", "/w=="]},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"NS": ["1", "2.5"]},
    {"S": ""},
    {"L": [{"S": "x"}, {"N": "1"}, {"M": {"a": {"B": "AQ=="}, "b": {"L": []}, "c": {"NULL": True}}}, {"BOOL": False}]},
    {"M": {"nested": {"M": {"deeper": {"SS": ["a", "b"]}}}, "empty": {"M": {}}}},
]
# Partition (hash) attributes take few values, so that partitions are full.
PARTITIONS = {"S": ["a", "\u4e2d", "ab"], "N": ["1", "2.0", "10"]}
PARTITION_ATTRS = {"pk", "ga", "gc", "ge", "gk", "gs"}

# (table, key, attribute types, GSIs, LSIs)
TABLES = {
    "main": (("pk", "sk"), {"pk": "S", "sk": "S", "ga": "S", "gb": "S", "gc": "S", "gd": "N", "ge": "S", "ln": "N"},
             {"gAB": ("ga", "gb"), "gCD": ("gc", "gd"), "gE": ("ge", None)}, {"lN": ("pk", "ln")}),
    "numeric": (("pk", "sk"), {"pk": "S", "sk": "N", "gk": "S", "gn": "N"}, {"gK": ("gk", None), "gKN": ("gk", "gn")}, None),
    "hashonly": (("id", None), {"id": "N", "gs": "S", "gr": "S"}, {"gS": ("gs", "gr"), "gH": ("gs", None)}, None),
}


def S(v: str) -> dict[str, str]:
    return {"S": v}


def N(v: str) -> dict[str, str]:
    return {"N": v}


class Workload:
    """Random requests for the tables above."""

    def __init__(self, rng: random.Random, prefix: str):
        self.rng = rng
        self.names = {t: f"{prefix}-{t}" for t in TABLES}

    def value(self, table: str, attr: str) -> dict[str, str]:
        kind = TABLES[table][1][attr]
        if attr in PARTITION_ATTRS:
            return {kind: self.rng.choice(PARTITIONS[kind])}
        return N(self.rng.choice(NUMBERS)) if kind == "N" else S(self.rng.choice(STRINGS))

    def key(self, table: str) -> dict[str, Any]:
        (h, r), _, _, _ = TABLES[table]
        key = {h: self.value(table, h)}
        if r:
            key[r] = self.value(table, r)
        return key

    def item(self, table: str) -> dict[str, Any]:
        (h, r), types, _, _ = TABLES[table]
        item = self.key(table)
        for attr in types:
            if attr not in item and self.rng.random() < 0.6:
                item[attr] = self.value(table, attr)
        item["n"] = N(str(self.rng.randint(0, 9)))
        if self.rng.random() < 0.3:
            item["tags"] = {"SS": self.rng.sample(STRINGS, 2)}
        if self.rng.random() < 0.4:
            item["misc"] = self.rng.choice(MISC)
        if self.rng.random() < 0.02:
            # a few big items: some Queries end at the 1 MB page size rather than at Limit (the
            # deterministic cases are in test_page_size_limit)
            item["blob"] = S("x" * self.rng.randint(100_000, 300_000))
        return item

    def index_attrs(self, table: str) -> list[str]:
        (h, r), types, _, _ = TABLES[table]
        return [a for a in types if a not in (h, r)]

    def condition(self) -> tuple[str | None, dict[str, Any]]:
        roll = self.rng.random()
        if roll < 0.6:
            return None, {}
        if roll < 0.8:
            return "attribute_exists(n)", {}
        return "n < :cn", {":cn": N(str(self.rng.randint(0, 9)))}

    def put(self, table: str) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"TableName": self.names[table], "Item": self.item(table)}
        cond, values = self.condition()
        if cond:
            body["ConditionExpression"] = cond.replace("attribute_exists", "attribute_not_exists") if self.rng.random() < 0.5 else cond
            if values:
                body["ExpressionAttributeValues"] = values
        return "PutItem", body

    def update_parts(self, table: str) -> dict[str, Any]:
        attrs = self.index_attrs(table)
        sets, removes, values = [], [], {}
        for i, attr in enumerate(self.rng.sample(attrs, self.rng.randint(1, min(3, len(attrs))))):
            if self.rng.random() < 0.3:
                removes.append(attr)
            else:
                sets.append(f"{attr} = :v{i}")
                values[f":v{i}"] = self.value(table, attr)
        expression = ""
        if self.rng.random() < 0.5:
            sets.append("n = if_not_exists(n, :zero) + :one")
            values.update({":zero": N("0"), ":one": N("1")})
        if sets:
            expression += "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        body: dict[str, Any] = {"UpdateExpression": expression.strip()}
        if values:
            body["ExpressionAttributeValues"] = values
        return body

    def update(self, table: str) -> tuple[str, dict[str, Any]]:
        body = {"TableName": self.names[table], "Key": self.key(table), **self.update_parts(table)}
        cond, values = self.condition()
        if cond:
            body["ConditionExpression"] = cond
            body.setdefault("ExpressionAttributeValues", {}).update(values)
        return "UpdateItem", body

    def delete(self, table: str) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"TableName": self.names[table], "Key": self.key(table)}
        cond, values = self.condition()
        if cond:
            body["ConditionExpression"] = cond
            if values:
                body["ExpressionAttributeValues"] = values
        return "DeleteItem", body

    def batch(self, table: str) -> tuple[str, dict[str, Any]]:
        requests, seen = [], set()
        for _ in range(self.rng.randint(1, 10)):
            item = self.item(table)
            (h, r), _, _, _ = TABLES[table]
            k = repr((item[h], item.get(r)))
            if k in seen:
                continue
            seen.add(k)
            if self.rng.random() < 0.7:
                requests.append({"PutRequest": {"Item": item}})
            else:
                requests.append({"DeleteRequest": {"Key": {a: item[a] for a in (h, r) if a}}})
        return "BatchWriteItem", {"RequestItems": {self.names[table]: requests}}

    def get(self, table: str) -> tuple[str, dict[str, Any]]:
        if self.rng.random() < 0.5:
            return "GetItem", {"TableName": self.names[table], "Key": self.key(table)}
        keys = {repr(k): k for k in (self.key(table) for _ in range(self.rng.randint(1, 8)))}
        return "BatchGetItem", {"RequestItems": {self.names[table]: {"Keys": list(keys.values())}}}

    def transaction(self) -> tuple[str, dict[str, Any]]:
        ops, seen = [], set()
        for _ in range(self.rng.randint(1, 6)):
            table = self.rng.choice(list(TABLES))
            kind = self.rng.choice(["Put", "Put", "Update", "Update", "Delete", "ConditionCheck"])
            if kind == "Put":
                op: dict[str, Any] = {"TableName": self.names[table], "Item": self.item(table)}
                (h, r), _, _, _ = TABLES[table]
                key = {a: op["Item"][a] for a in (h, r) if a}
            else:
                key = self.key(table)
                op = {"TableName": self.names[table], "Key": key}
                if kind == "Update":
                    op.update(self.update_parts(table))
            k = repr((table, sorted(key.items())))
            if k in seen and self.rng.random() < 0.9:
                continue  # now and then keep it: moto refuses two operations on one key
            seen.add(k)
            cond, values = self.condition()
            if kind == "ConditionCheck" and not cond:
                cond = "attribute_exists(n)"
            if cond:
                op["ConditionExpression"] = cond
                if values:
                    op.setdefault("ExpressionAttributeValues", {}).update(values)
            ops.append({kind: op})
        return "TransactWriteItems", {"TransactItems": ops}

    def query(self) -> dict[str, Any]:
        table = self.rng.choice(list(TABLES))
        (h, r), types, gsis, lsis = TABLES[table]
        views = [(None, h, r)] + [(n, a, b) for n, (a, b) in (gsis or {}).items()] + [(n, a, b) for n, (a, b) in (lsis or {}).items()]
        index, hash_attr, range_attr = self.rng.choice(views)
        body: dict[str, Any] = {"TableName": self.names[table]}
        if index:
            body["IndexName"] = index
        names = {"#h": hash_attr}
        values = {":h": self.value(table, hash_attr)}
        expression = "#h = :h"
        if range_attr and self.rng.random() < 0.7:
            names["#r"] = range_attr
            op = self.rng.choice(["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"])
            if op == "begins_with" and types[range_attr] == "N":
                op = ">="
            a, b = self.value(table, range_attr), self.value(table, range_attr)
            if op == "BETWEEN":
                if self.rng.random() < 0.9:
                    a, b = sorted([a, b], key=lambda v: float(v["N"]) if "N" in v else v["S"])
                expression += " AND #r BETWEEN :a AND :b"
                values.update({":a": a, ":b": b})
            elif op == "begins_with":
                prefix = a["S"][: self.rng.randint(1, max(1, len(a["S"])))]
                expression += " AND begins_with(#r, :a)"
                values[":a"] = S(prefix)
            else:
                expression += f" AND #r {op} :a"
                values[":a"] = a
        body["KeyConditionExpression"] = expression
        body["ExpressionAttributeNames"] = names
        body["ExpressionAttributeValues"] = values
        if self.rng.random() < 0.5:
            body["ScanIndexForward"] = False
        if self.rng.random() < 0.6:
            body["Limit"] = self.rng.randint(1, 6)
        if self.rng.random() < 0.25:
            body["FilterExpression"] = "n >= :f"
            values[":f"] = N(str(self.rng.randint(0, 9)))
        roll = self.rng.random()
        if roll < 0.15:
            body["Select"] = "COUNT"
        elif roll < 0.3:
            body["ProjectionExpression"] = "#h, n, misc"
        return body

    def start_key(self, table: str, index: str | None, item: dict[str, Any]) -> dict[str, Any] | None:
        """ExclusiveStartKey made of an item's attributes, for an arbitrary position in a query."""
        (h, r), _, gsis, lsis = TABLES[table]
        attrs = [h] + ([r] if r else [])
        if index:
            attrs += [a for a in ({**(gsis or {}), **(lsis or {})}[index]) if a]
        if any(a not in item for a in attrs):
            return None
        return {a: item[a] for a in attrs}


class DifferentialTest(unittest.TestCase):
    patched = inprocess.Client("dynamodb", "us-east-1")
    stock = inprocess.Client("dynamodb", "us-west-2")
    streams = {"patched": inprocess.Client("dynamodbstreams", "us-east-1"), "stock": inprocess.Client("dynamodbstreams", "us-west-2")}

    def both(self, op: str, body: dict[str, Any]) -> tuple[int, Any]:
        with patches.inactive(), patches.active(*ALL):
            got = self.patched.call(op, body)
        with patches.inactive():
            want = self.stock.call(op, body)
        if got[0] != 200 or want[0] != 200:
            # errors: the same status and type (a 500's page quotes a traceback, which differs)
            kind = lambda r: r[1].get("__type") if isinstance(r[1], dict) else None  # noqa: E731
            self.assertEqual((got[0], kind(got)), (want[0], kind(want)), f"{op} {body}")
        else:
            self.assertEqual(got, want, f"{op} {body}")
        return got

    def query_to_end(self, body: dict[str, Any]) -> int:
        pages = 0
        while True:
            status, page = self.both("Query", body)
            pages += 1
            if status != 200 or "LastEvaluatedKey" not in page or pages > 60:
                return pages
            body = dict(body, ExclusiveStartKey=page["LastEvaluatedKey"])

    def stream_records(self, side: str, table: str, client: inprocess.Client) -> list[Any]:
        arn = client.ok("DescribeTable", {"TableName": table})["Table"]["LatestStreamArn"]
        streams = self.streams[side]
        shard = streams.ok("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.ok("GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        records = []
        while True:
            out = streams.ok("GetRecords", {"ShardIterator": it, "Limit": 1000})
            if not out["Records"]:
                break
            records += out["Records"]
            it = out["NextShardIterator"]
        for r in records:  # random or clock-dependent on either side
            r.pop("eventID")
            r["dynamodb"].pop("ApproximateCreationDateTime")
            r["dynamodb"].pop("SizeBytes")  # counts the timestamp's text
        return records

    def run_workload(self, seed: int) -> None:
        rng = random.Random(seed)
        w = Workload(rng, f"diff{seed}")
        for table, (keys, types, gsis, lsis) in TABLES.items():
            for client in (self.patched, self.stock):
                inprocess.create_table(client, w.names[table], keys, types, gsis, lsis)
        items: list[tuple[str, dict[str, Any]]] = []
        for table in TABLES:  # a start, so the first queries find something
            for _ in range(4):
                op, body = w.batch(table)
                self.both(op, body)
        queries = pages = 0
        for step in range(STEPS):
            roll = rng.random()
            table = rng.choice(list(TABLES))
            if roll < 0.22:
                op, body = w.put(table)
                items.append((table, body["Item"]))
            elif roll < 0.37:
                op, body = w.update(table)
            elif roll < 0.45:
                op, body = w.delete(table)
            elif roll < 0.52:
                op, body = w.batch(table)
            elif roll < 0.64:
                op, body = w.transaction()
            elif roll < 0.70:
                op, body = w.get(table)
            else:
                body = w.query()
                if items and rng.random() < 0.2:
                    t, item = rng.choice(items)
                    table = next(k for k, v in w.names.items() if v == body["TableName"])
                    if t == table:
                        start = w.start_key(table, body.get("IndexName"), item)
                        if start:
                            body["ExclusiveStartKey"] = start
                queries += 1
                pages += self.query_to_end(body)
                continue
            self.both(op, body)

        for table, name in w.names.items():
            with self.subTest(table=table):
                scan = {"TableName": name}
                with patches.inactive(), patches.active(*ALL):
                    got = sorted(map(repr, self.patched.ok("Scan", scan)["Items"]))
                    got_records = self.stream_records("patched", name, self.patched)
                    patches.check_index(inprocess.backend("dynamodb", "us-east-1").tables[name])
                with patches.inactive():
                    want = sorted(map(repr, self.stock.ok("Scan", scan)["Items"]))
                    want_records = self.stream_records("stock", name, self.stock)
                self.assertEqual(got, want)
                self.assertEqual(got_records, want_records)
        self.assertGreater(queries, STEPS // 5)
        self.assertGreater(pages, queries)

    def test_page_size_limit(self) -> None:
        """Big items: pages end at moto's 1 MB, including where a non-matching item after the matches is
        what ends the page (moto checks every item's size against the page, matching or not)."""
        name = "diff-pages"
        for client in (self.patched, self.stock):
            inprocess.create_table(client, name, *TABLES["main"])
        sizes = {"s0": 300_000, "s1": 300_000, "s2": 310_000, "s3": 320_000, "s4": 90_000, "s5": 330_000, "s6": 5, "s7": 250_000}
        for sk, size in sizes.items():
            item = {"pk": S("a"), "sk": S(sk), "ga": S("g"), "gb": S(sk[::-1]), "n": N(sk[1]), "blob": S("x" * size)}
            self.both("PutItem", {"TableName": name, "Item": item})
        conditions = [
            ("", {}),
            (" AND sk < :a", {":a": S("s3")}),
            (" AND sk > :a", {":a": S("s4")}),
            (" AND sk BETWEEN :a AND :b", {":a": S("s1"), ":b": S("s5")}),
            (" AND begins_with(sk, :a)", {":a": S("s")}),
        ]
        for forward in (True, False):
            for limit in (None, 2):
                for expression, values in conditions:
                    for index in (None, "gAB"):
                        body: dict[str, Any] = {"TableName": name, "ScanIndexForward": forward,
                                                "ExpressionAttributeValues": {":p": S("a" if index is None else "g"), **values}}
                        if index:
                            body["IndexName"] = index
                            body["KeyConditionExpression"] = "ga = :p" + expression.replace("sk", "gb")
                        else:
                            body["KeyConditionExpression"] = "pk = :p" + expression
                        if limit:
                            body["Limit"] = limit
                        with self.subTest(body={k: v for k, v in body.items() if k != "TableName"}):
                            self.assertGreaterEqual(self.query_to_end(body), 1)
                            if limit is None and forward:
                                body["FilterExpression"] = "n <> :f"
                                body["ExpressionAttributeValues"][":f"] = N("2")
                                self.query_to_end(body)

    def test_random_workloads(self) -> None:
        before = dict(patches.stats)
        for seed in SEEDS:
            with self.subTest(seed=seed):
                self.run_workload(seed)
        narrowed = patches.stats["query_narrowed"] - before["query_narrowed"]
        self.assertEqual(patches.stats["query_error"], before["query_error"], "the narrowing raised (see the log)")
        self.assertEqual(patches.stats["index_inconsistent"], before["index_inconsistent"])
        # the suite must exercise the narrowing, not only its fallbacks
        self.assertGreater(narrowed, 10 * (patches.stats["query_fallback"] - before["query_fallback"]))


if __name__ == "__main__":
    unittest.main()
