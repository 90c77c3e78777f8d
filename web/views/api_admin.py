"""Admin JSON API: change an OTC pool's configuration (validated by pool_config, audited)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from models import OTCPool, db
from services import pool_config, quoting
from web import serializers
from web.errors import api_error
from web.json_body import request_json

bp = Blueprint("api_admin", __name__)


@bp.patch("/api/v1/pools/<int:pool_id>")
def update_pool(pool_id: int):
    """Apply a partial configuration change to one pool; answer the pool as GET does."""
    if db.session.get(OTCPool, pool_id) is None:
        return api_error(404, "NOT_FOUND", f"no pool with id {pool_id}")
    try:
        body = request_json()
    except quoting.InputError as exc:
        return api_error(400, exc.code, str(exc))
    try:
        changes = pool_config.parse_changes(body)
        pool = pool_config.apply_changes(pool_id, changes, current_user._get_current_object())
    except pool_config.PoolConfigError as exc:
        return api_error(400, exc.code, str(exc), exc.field)
    return jsonify(serializers.pool_json(pool))
