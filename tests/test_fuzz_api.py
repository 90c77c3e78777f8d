"""Fuzz the JSON API from its OpenAPI document (schemathesis): no 5xx, answers that fit the document, rejected
requests that move no liquidity. Fixed budget and derandomized (the same cases every run): FUZZ_EXAMPLES per
operation and generation phase; the run prints how many requests it sent.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import select

from models import OTCPool, db
from tests.conftest import build_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SENT: Counter[str] = Counter()  # requests per "METHOD path"
STATUSES: Counter[str] = Counter()  # answers per "METHOD path Nxx"


# One seeded app for the whole run (built at collection: schemathesis parametrizes from the app's served document),
# rate limits off: 429s would hide the answers under test.
# FUZZ_DATABASE_URL (optional) fuzzes another database, e.g. an empty PostgreSQL schema of its own:
# postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dfuzz
FUZZ_DIR = tempfile.mkdtemp(prefix="olr-fuzz-")
FUZZ_APP = build_app(os.environ.get("FUZZ_DATABASE_URL") or f"sqlite:///{Path(FUZZ_DIR) / 'fuzz.db'}")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", FUZZ_APP)


@pytest.fixture(scope="module")
def fuzz_app() -> Iterator[Flask]:
    """The fuzzed app; its database is removed at the end."""
    yield FUZZ_APP
    with FUZZ_APP.app_context():
        db.engine.dispose()
    shutil.rmtree(FUZZ_DIR, ignore_errors=True)


def inventory(app: Flask) -> list[tuple[int, int, int]]:
    """Every pool's stored inventory: (id, base atoms, quote atoms)."""
    with app.app_context():
        rows = db.session.execute(select(OTCPool.id, OTCPool.base_atoms, OTCPool.quote_atoms).order_by(OTCPool.id))
        return [tuple(r) for r in rows]


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_api_survives_fuzzing(case: schemathesis.Case, fuzz_app: Flask) -> None:
    before = inventory(fuzz_app)
    token = fuzz_app.config["TEST_ADMIN_TOKEN"]
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                      excluded_checks=[positive_data_acceptance])
    SENT[f"{case.method} {case.path}"] += 1
    STATUSES[f"{case.method} {case.path} {response.status_code // 100}xx"] += 1
    if response.status_code >= 400:
        assert inventory(fuzz_app) == before, "a rejected request moved liquidity"


def test_fuzz_budget_was_spent_on_accepted_and_rejected_writes(fuzz_app: Flask) -> None:
    summary = (f"fuzz: {sum(SENT.values())} requests over {len(SENT)} method+path pairs "
               f"(FUZZ_EXAMPLES={FUZZ_EXAMPLES}); by answer: "
               + ", ".join(f"{k} {v}" for k, v in sorted(STATUSES.items()) if v > 1))
    out = Path(__file__).resolve().parents[1] / "test-artifacts" / "fuzz-summary.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(summary + "\n")
    print("\n" + summary)
    assert sum(SENT.values()) >= 10 * FUZZ_EXAMPLES
    for write in ("POST /api/v1/trades", "POST /api/v1/quotes", "PATCH /api/v1/pools/{pool_id}"):
        assert STATUSES[f"{write} 4xx"] > 0 and STATUSES[f"{write} 2xx"] > 0, write
