"""Flask-WTF forms of the admin's RFQ makers page: add or edit a maker, confirm removing one."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from services import makers


class MakerForm(FlaskForm):
    """A maker's name, base URL, API key (write-only: blank keeps the stored one), enabled and timeout."""

    name = StringField("Name", validators=[InputRequired(message="Name the maker."), Length(max=48)],
                       render_kw={"autocomplete": "off", "placeholder": "wintermute", "maxlength": 48})
    base_url = StringField("Base URL", validators=[InputRequired(message="Give the webhook's base URL."),
                                                   Length(max=255)],
                           render_kw={"autocomplete": "off", "placeholder": "https://mm.example.com/jupiter/rfq"})
    api_key = PasswordField("API key", validators=[Optional(), Length(max=255)],
                            render_kw={"autocomplete": "new-password"})
    enabled = BooleanField("Enabled (asked for quotes)", default=True)
    timeout_ms = IntegerField("Timeout (ms)", default=makers.DEFAULT_TIMEOUT_MS, validators=[
        InputRequired(message="Give a timeout in milliseconds."),
        NumberRange(makers.MIN_TIMEOUT_MS, makers.MAX_TIMEOUT_MS,
                    message=f"From {makers.MIN_TIMEOUT_MS} to {makers.MAX_TIMEOUT_MS} ms.")])

    def body(self, *, editing: bool) -> dict[str, Any]:
        """The service's create/update body; an empty API key while editing keeps the stored one."""
        out: dict[str, Any] = {"name": (self.name.data or "").strip(), "base_url": (self.base_url.data or "").strip(),
                               "enabled": bool(self.enabled.data), "timeout_ms": self.timeout_ms.data}
        if self.api_key.data or not editing:
            out["api_key"] = self.api_key.data or None
        return out


class DeleteMakerForm(FlaskForm):
    """Confirms removing one maker: the posted id must be the maker's own."""

    maker_id = HiddenField(validators=[InputRequired(message="Confirm which maker to remove.")])
