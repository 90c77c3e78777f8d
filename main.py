"""WSGI entry point: `gunicorn main:app`."""
from app import create_app

app = create_app()
