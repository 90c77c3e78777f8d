"""What a view hands to the services: this process's market (settings, Jupiter client, reference price)."""
from __future__ import annotations

from flask import current_app

from services.market import Market


def market() -> Market:
    """The market built by create_app for this process."""
    return current_app.extensions["market"]
