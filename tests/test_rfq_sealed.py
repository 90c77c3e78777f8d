"""Makers' API keys at rest: sealed under the instance key, converted by the migration, sent only to the maker."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from core.wire import RawResponse
from ledger import sealed
from ledger.maker_tables import Maker
from models import db
from services import makers
from services.settings import maker_key
from tests.conftest import build_app
from venues.rfq_client import MakerEndpoint, RfqClient

KEY = bytes(range(32))


def test_a_sealed_secret_opens_only_with_its_key_and_unaltered() -> None:
    token = sealed.seal(KEY, "mm-secret-ключ")
    assert sealed.is_sealed(token) and "mm-secret" not in token
    assert sealed.unseal(KEY, token) == "mm-secret-ключ"
    assert sealed.seal(KEY, "mm-secret-ключ") != token  # a fresh IV, another token
    with pytest.raises(sealed.SealError):
        sealed.unseal(bytes(32), token)  # another key
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(sealed.SealError):
        sealed.unseal(KEY, flipped)
    with pytest.raises(sealed.SealError):
        sealed.unseal(KEY, "mm-secret")  # plaintext is not a token
    with pytest.raises(sealed.SealError):
        sealed.unseal(KEY, sealed.PREFIX + "not-fernet")
    with pytest.raises(sealed.SealError):
        sealed.seal(b"short", "x")


def test_the_instance_key_comes_from_maker_key_or_a_private_file_made_once(tmp_path: Path) -> None:
    first = maker_key(None, str(tmp_path))
    assert len(first) == 32 and maker_key(None, str(tmp_path)) == first
    assert stat.S_IMODE(os.stat(tmp_path / "maker-key").st_mode) == 0o600
    assert maker_key("s" * 32, str(tmp_path)) != first
    with pytest.raises(RuntimeError):
        maker_key("too-short", str(tmp_path))


class Capture:
    """An HTTP transport that records the headers each maker call carried and answers 404 (no quote)."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def __call__(self, ep: MakerEndpoint, method: str, path: str, body: Any, headers: dict[str, str],
                 timeout_s: float) -> RawResponse:
        self.headers.append(dict(headers))
        return RawResponse(404, {}, '{"message": "no quote"}')


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def app(tmp_path: Path, capture: Capture) -> Iterator[Flask]:
    app = build_app(f"sqlite:///{tmp_path / 'sealed.db'}", RFQ_CLIENT=RfqClient(None, http=capture))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_api_key_is_stored_sealed_and_sent_unsealed_to_its_maker_only(app: Flask, capture: Capture) -> None:
    client = app.test_client()
    res = client.post("/api/v1/makers", json={"name": "wm", "base_url": "https://mm.example.test",
                                              "api_key": "wm-key-123"})
    assert res.status_code == 201 and res.get_json()["has_api_key"] is True
    with app.app_context():
        stored = db.session.execute(text("SELECT api_key_sealed FROM makers WHERE name = 'wm'")).scalar_one()
    assert sealed.is_sealed(stored) and "wm-key-123" not in stored
    client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "100"})
    assert capture.headers and all(h.get("X-API-KEY") == "wm-key-123" for h in capture.headers)


def test_a_key_sealed_under_another_instance_key_is_never_sent(app: Flask, capture: Capture) -> None:
    app.test_client().post("/api/v1/makers", json={"name": "wm", "base_url": "https://mm.example.test",
                                                   "api_key": "wm-key-123"})
    with app.app_context():
        m = db.session.scalar(select(Maker).where(Maker.name == "wm"))
        assert m is not None
        m.api_key_sealed = sealed.seal(bytes(32), "wm-key-123")  # MAKER_KEY changed since
        db.session.commit()
    capture.headers.clear()
    res = app.test_client().post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "100"})
    assert res.status_code == 200 and "rfq:wm" not in {o["venue"] for o in res.get_json()["options"]}
    assert capture.headers == []


def test_the_migration_seals_existing_plaintext_keys_and_the_downgrade_opens_them(any_app: Flask) -> None:
    app = any_app
    with app.app_context():
        downgrade(revision="a9c4e2f7b3d1")
        db.session.execute(text("INSERT INTO makers (name, base_url, api_key, enabled, timeout_ms, tokens, "
                                "fail_streak, suspensions, created_at, updated_at) VALUES ('old', "
                                "'https://mm.example.test', 'plain-key-7', :on, 500, '[]', 0, 0, :at, :at)"),
                           {"on": True, "at": datetime(2026, 12, 1, tzinfo=UTC)})
        db.session.commit()
        upgrade()
        assert "api_key" not in {c["name"] for c in inspect(db.engine).get_columns("makers")}
        m = db.session.scalar(select(Maker).where(Maker.name == "old"))
        assert m is not None and m.api_key_sealed is not None and "plain-key-7" not in m.api_key_sealed
        assert makers.endpoint(m, app.config["MAKER_KEY_BYTES"]).api_key == "plain-key-7"
        db.session.rollback()
        downgrade(revision="a9c4e2f7b3d1")
        plain = db.session.execute(text("SELECT api_key FROM makers WHERE name = 'old'")).scalar_one()
        db.session.rollback()
        upgrade()
    assert plain == "plain-key-7"
