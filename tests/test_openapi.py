"""The OpenAPI document is valid 3.1 and true to the code: same routes, same roles, examples and answers that fit."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from core.tokens import DECIMAL_RE
from web import auth, openapi_spec

SPEC = openapi_spec.spec()
METHODS = {"get", "post", "put", "patch", "delete"}


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for a schema of the document, resolving its #/components refs."""
    return Draft202012Validator({**schema, "components": SPEC["components"]})


def flask_routes(app: Flask) -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) -> endpoint of every route under /api/ and /healthz."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes[(path, method.lower())] = rule.endpoint
    return routes


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of the document."""
    return [(path, method, op) for path, item in SPEC["paths"].items() for method, op in item.items()
            if method in METHODS]


def test_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json", headers={"Authorization": ""})
    assert served.status_code == 200
    assert served.get_json() == SPEC
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_api_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    routes = set(flask_routes(app))
    documented = {(path, method) for path, method, _ in operations()}
    assert routes - documented == set(), "document these routes in openapi_spec.py"
    assert documented - routes == set(), "the document lists routes the app does not have"


def test_documented_roles_match_the_access_policy(app: Flask) -> None:
    routes = flask_routes(app)
    for path, method, op in operations():
        assert op["x-required-role"] == auth.required_role(routes[(path, method)], method.upper()), (path, method)
        assert ("security" in op and op["security"] == []) == (op["x-required-role"] == auth.PUBLIC)


def test_protected_operations_document_401_and_403_and_every_operation_an_error_shape() -> None:
    for path, method, op in operations():
        if op["x-required-role"] != auth.PUBLIC:
            assert {"401", "403"} <= set(op["responses"]), (path, method)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def examples() -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) of every example in the document."""
    out = []
    for path, method, op in operations():
        blocks = [("request", op.get("requestBody", {})), *op["responses"].items()]
        for name, block in blocks:
            media = block.get("content", {}).get("application/json", {})
            if "example" in media:
                out.append((f"{method.upper()} {path} {name}", media["schema"], media["example"]))
    return out


@pytest.mark.parametrize(("where", "schema", "example"), examples(), ids=[w for w, _, _ in examples()])
def test_every_example_is_valid_against_its_schema(where: str, schema: dict[str, Any], example: Any) -> None:
    errors = [e.message for e in schema_validator(schema).iter_errors(example)]
    assert errors == []


def test_examples_cover_every_request_body_and_success_answer_with_a_schema() -> None:
    covered = {w for w, _, _ in examples()}
    for path, method, op in operations():
        if "requestBody" in op:
            assert f"{method.upper()} {path} request" in covered
    assert len(covered) >= 15


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The documented schema of an answer."""
    return SPEC["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def test_real_answers_fit_the_documented_schemas(client: FlaskClient) -> None:
    order = {"input": "SOL", "output": "USDC", "amount": "25000"}
    calls = [
        ("/api/v1/quotes", "post", client.post("/api/v1/quotes", json=order)),
        ("/api/v1/trades", "post", client.post("/api/v1/trades", json=order, headers={"Idempotency-Key": "k1"})),
        ("/api/v1/trades", "post", client.post("/api/v1/trades", json=order, headers={"Idempotency-Key": "k1"})),
        ("/api/v1/trades", "post", client.post("/api/v1/trades", json={**order, "amount": "0.000000001"})),
        ("/api/v1/trades", "get", client.get("/api/v1/trades?limit=1")),
        ("/api/v1/trades/{trade_id}", "get", client.get("/api/v1/trades/1")),
        ("/api/v1/trades/{trade_id}", "get", client.get("/api/v1/trades/999")),
        ("/api/v1/pools", "get", client.get("/api/v1/pools")),
        ("/api/v1/pools/{pool_id}", "get", client.get("/api/v1/pools/1")),
        ("/api/v1/pools/{pool_id}", "patch", client.patch("/api/v1/pools/1", json={"fee_bps": "2.5"})),
        ("/api/v1/pools/{pool_id}", "patch", client.patch("/api/v1/pools/1", json={"fee_bps": 2.5})),
        ("/api/v1/analytics/summary", "get", client.get("/api/v1/analytics/summary")),
        ("/api/v1/analytics/summary", "get", client.get("/api/v1/analytics/summary?since=yesterday")),
        ("/healthz", "get", client.get("/healthz")),
    ]
    seen = set()
    for path, method, res in calls:
        seen.add(res.status_code)
        errors = [e.message for e in schema_validator(response_schema(path, method, res.status_code))
                  .iter_errors(res.get_json())]
        assert errors == [], (path, method, res.status_code)
    assert {200, 201, 400, 404} <= seen


def test_api_page_renders_every_operation_and_is_linked_from_the_navbar(client: FlaskClient) -> None:
    page = client.get("/api").get_data(as_text=True)
    for path, method, op in operations():
        assert f'id="op-{op["operationId"]}"' in page, (method, path)
    assert 'href="/api/v1/openapi.json"' in page
    assert 'href="/api"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("text", ["25000", "25,000", "1,234,567.5", "0.25", "007", "2,5000", ",100", "100,", "1_000",
                                  "+1", " 1", "1 ", "１２", "٢٥", "1e3", ".5", "5.", "0,500", "1,00", "-1"])
def test_the_documented_amount_format_is_the_parsers_format(text: str) -> None:
    amount = SPEC["components"]["schemas"]["OrderRequest"]["properties"]["amount"]["anyOf"][0]
    assert bool(re.fullmatch(amount["pattern"], text)) == bool(DECIMAL_RE.fullmatch(text)), text
