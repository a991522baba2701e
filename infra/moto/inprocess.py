"""moto's own WSGI apps called in process, for the tests of patches.py.

A request goes through the same Flask app serve.py serves (moto's request parsing, backends, response
rendering), without sockets or an SDK: about a millisecond a call. The region comes from the Authorization
header's credential scope, as moto reads it, so two clients in two regions use two independent backends —
the differential suite runs patched moto in one and stock moto in the other.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

warnings.filterwarnings("ignore")

from moto.moto_server.werkzeug_app import create_backend_app  # noqa: E402

_TARGETS = {
    "dynamodb": "DynamoDB_20120810",
    "dynamodbstreams": "DynamoDBStreams_20120810",
}
_apps: dict[str, Any] = {}


class Client:
    """Calls one moto service (dynamodb, dynamodbstreams, sqs) in one region."""

    def __init__(self, service: str = "dynamodb", region: str = "us-east-1"):
        if service not in _apps:
            app = create_backend_app(service)
            # answer an unexpected exception with HTTP 500, as serve.py does, instead of raising it here; and
            # do not print its traceback (tests that expect a 500 from stock moto would fill the output)
            app.config["PROPAGATE_EXCEPTIONS"] = False
            app.log_exception = lambda exc_info: None
            _apps[service] = app.test_client()
        self.http = _apps[service]
        self.service = service
        self.region = region

    def _headers(self, op: str) -> dict[str, str]:
        headers = {
            "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/{self.region}/{self.service}/aws4_request, "
            "SignedHeaders=host, Signature=0",
        }
        if self.service in _TARGETS:
            headers["X-Amz-Target"] = f"{_TARGETS[self.service]}.{op}"
            headers["Content-Type"] = "application/x-amz-json-1.0"
        else:  # SQS speaks JSON 1.0 too in moto 5
            headers["X-Amz-Target"] = f"AmazonSQS.{op}"
            headers["Content-Type"] = "application/x-amz-json-1.0"
        return headers

    def call(self, op: str, body: dict[str, Any]) -> tuple[int, Any]:
        """(HTTP status, decoded JSON body) of one request."""
        response = self.http.post("/", data=json.dumps(body), headers=self._headers(op))
        data = response.get_data()
        try:
            return response.status_code, (json.loads(data) if data else None)
        except ValueError:  # an HTML error page (HTTP 500)
            return response.status_code, data.decode(errors="replace")

    def ok(self, op: str, body: dict[str, Any]) -> Any:
        """The body of a request that must succeed."""
        status, out = self.call(op, body)
        if status != 200:
            raise AssertionError(f"{op} answered {status}: {out}")
        return out

    def error(self, op: str, body: dict[str, Any]) -> tuple[int, str]:
        """(status, error type without namespace) of a request that must fail."""
        status, out = self.call(op, body)
        if status == 200:
            raise AssertionError(f"{op} succeeded: {out}")
        kind = (out or {}).get("__type", "") if isinstance(out, dict) else ""
        return status, kind.split("#")[-1]


def backend(service: str = "dynamodb", region: str = "us-east-1", account: str = "123456789012") -> Any:
    """moto's backend object behind a Client, for tests that look inside."""
    if service == "dynamodb":
        from moto.dynamodb.models import dynamodb_backends as backends
    elif service == "dynamodbstreams":
        from moto.dynamodbstreams.models import dynamodbstreams_backends as backends
    elif service == "sqs":
        from moto.sqs.models import sqs_backends as backends
    else:
        raise ValueError(service)
    return backends[account][region]


def key_schema(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def create_table(
    client: Client,
    name: str,
    keys: tuple[str, str | None],
    types: dict[str, str],
    gsis: dict[str, tuple[str, str | None]] | None = None,
    lsis: dict[str, tuple[str, str]] | None = None,
    stream: bool = True,
) -> dict[str, Any]:
    """CreateTable with on-demand billing; gsis/lsis map index name to (hash, range) attribute names."""
    body: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(*keys),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in types.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        body["GlobalSecondaryIndexes"] = [
            {"IndexName": n, "KeySchema": key_schema(*k), "Projection": {"ProjectionType": "ALL"}} for n, k in gsis.items()
        ]
    if lsis:
        body["LocalSecondaryIndexes"] = [
            {"IndexName": n, "KeySchema": key_schema(*k), "Projection": {"ProjectionType": "ALL"}} for n, k in lsis.items()
        ]
    if stream:
        body["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return client.ok("CreateTable", body)["TableDescription"]
