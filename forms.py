"""Flask-WTF forms: the trade ticket and the pool editor."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from tokens import TOKENS

TOKEN_CHOICES = {t.symbol: t.symbol for t in TOKENS}


class TradeTicketForm(FlaskForm):
    """A trader's order: pair, amount in human units, slippage and swap mode."""

    input = SelectField("You sell", choices=TOKEN_CHOICES, default="SOL", validators=[DataRequired()])
    output = SelectField("You buy", choices=TOKEN_CHOICES, default="USDC", validators=[DataRequired()])
    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")],
                         render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "25000"})
    swap_mode = RadioField("Amount is", choices={"ExactIn": "what I sell", "ExactOut": "what I buy"},
                           default="ExactIn")
    slippage_bps = IntegerField("Max slippage", default=50, validators=[
        InputRequired(message="Enter a slippage in bps."),
        NumberRange(min=1, max=5000, message="Slippage must be between 1 and 5000 bps.")])


class ExecuteForm(FlaskForm):
    """Executes a stored quote once: `token` is a one-time idempotency token."""

    token = HiddenField(validators=[DataRequired()])
