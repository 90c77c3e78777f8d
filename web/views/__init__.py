"""Blueprints: pages, the JSON API, charts, admin, the simulator's HTTP face."""
