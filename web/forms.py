"""Flask-WTF forms: the trade ticket, the pool editor, and the admin's user and token forms."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from core.tokens import TOKENS, format_ui, parse_decimal, to_atoms
from models import ROLES
from services import accounts, pool_config

MAX_ATOMS = 2**63 - 1  # the largest amount a BigInteger column holds

TOKEN_CHOICES = {t.symbol: t.symbol for t in TOKENS}


def _strip(value: Any) -> Any:
    """Trim what a person typed: spaces around a number are invisible in an input box (the API takes no spaces)."""
    return value.strip() if isinstance(value, str) else value


class PlainDecimalField(DecimalField):
    """A DecimalField parsed by core.tokens.parse_decimal (ASCII digits, thousands commas), as amounts are."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = _strip(valuelist[0])
        if text == "":
            self.data = None
            return
        try:
            self.data = parse_decimal(text, self.label.text)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


class TradeTicketForm(FlaskForm):
    """A trader's order: pair, amount in human units, slippage and swap mode."""

    input = SelectField("You sell", choices=TOKEN_CHOICES, default="SOL", validators=[DataRequired()])
    output = SelectField("You buy", choices=TOKEN_CHOICES, default="USDC", validators=[DataRequired()])
    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")], filters=[_strip],
                         render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "25000"})
    swap_mode = RadioField("Amount is", choices={"ExactIn": "what I sell", "ExactOut": "what I buy"},
                           default="ExactIn")
    slippage_bps = IntegerField("Max slippage", default=50, validators=[
        InputRequired(message="Enter a slippage in bps."),
        NumberRange(min=1, max=5000, message="Slippage must be between 1 and 5000 bps.")])


class ExecuteForm(FlaskForm):
    """Executes a stored quote once: `token` is a one-time idempotency token; `acknowledge_cost` is the trader's
    acceptance of a cost above the hard-confirm threshold (the dialog's tick box, quote.js)."""

    token = HiddenField(validators=[DataRequired()])
    acknowledge_cost = BooleanField(default=False)


def _bps(label: str, minimum: Decimal = Decimal(0), message: str = "must not be negative") -> DecimalField:
    """A decimal setting with up to 4 places, at least `minimum`."""
    return PlainDecimalField(label, places=4, validators=[
        InputRequired(message=f"Enter the {label.lower()}."),
        NumberRange(min=minimum, message=f"{label} {message}.")], render_kw={"inputmode": "decimal"})


def _ms(label: str, minimum: int = 0) -> IntegerField:
    """Milliseconds from `minimum` to an hour."""
    return IntegerField(label, validators=[
        InputRequired(message=f"Enter the {label.lower()} in ms."),
        NumberRange(min=minimum, max=3_600_000, message=f"{label} must be {minimum} to 3,600,000 ms.")])


# pool form field -> (pool column, which token's decimals)
POOL_AMOUNTS = {"min_trade_base": ("min_trade_base_atoms", "base"), "max_trade_base": ("max_trade_base_atoms", "base"),
                "target_base": ("target_base_atoms", "base"), "target_quote": ("target_quote_atoms", "quote")}


class PoolForm(FlaskForm):
    """An OTC pool's pricing, limits and timing; amounts in human units of the pool's tokens."""

    base_spread_bps = _bps("Base spread")
    size_spread_bps = _bps("Size spread")
    size_exponent = _bps("Size exponent", Decimal("0.0001"), "must be greater than zero")
    annual_vol_pct = _bps("Annual volatility")
    vol_z = _bps("Volatility z-score")
    fee_bps = _bps("Fee")
    min_trade_base = StringField("Minimum trade", validators=[DataRequired(message="Enter the minimum trade size.")],
                                 render_kw={"inputmode": "decimal", "autocomplete": "off"})
    max_trade_base = StringField("Maximum trade", validators=[DataRequired(message="Enter the maximum trade size.")],
                                 render_kw={"inputmode": "decimal", "autocomplete": "off"})
    target_base = StringField("Target base inventory", validators=[DataRequired(message="Enter the target.")],
                              render_kw={"inputmode": "decimal", "autocomplete": "off"})
    target_quote = StringField("Target quote inventory", validators=[DataRequired(message="Enter the target.")],
                               render_kw={"inputmode": "decimal", "autocomplete": "off"})
    replenish_pct_per_hour = _bps("Replenishment")
    execution_delay_ms = _ms("Execution delay")
    delay_jitter_ms = _ms("Delay jitter")
    quote_ttl_ms = _ms("Quote time-to-live", 1)
    active = BooleanField("Active: quotes and fills")

    def __init__(self, *args: Any, base_decimals: int = 9, quote_decimals: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decimals = {"base": base_decimals, "quote": quote_decimals}

    def _atoms(self, name: str) -> int:
        """A human amount field as atoms (rounded down); ValidationError in plain words naming the field."""
        decimals = self.decimals[POOL_AMOUNTS[name][1]]
        label = self[name].label.text
        try:
            return to_atoms(_strip(self[name].data or ""), decimals, label)
        except ValueError as exc:
            text = str(exc)
            if "too large" in text or "2^63" in text:
                largest = format_ui(MAX_ATOMS, decimals, 0)
                raise ValidationError(f"{label} is too large: at most {largest}.") from None
            if "decimal places" in text:
                raise ValidationError(f"{label} has more than {decimals} digits after the point.") from None
            if "greater than zero" in text:
                raise ValidationError(f"{label} must be greater than zero.") from None
            if text.startswith(label):  # the parser's own words, naming the field: already plain
                raise ValidationError(text) from None
            raise ValidationError(f"{label} must be a number, e.g. 50000 or 12.5.") from None

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then each decimal setting's column range and 4 decimals (pool_config's rules, in words)."""
        ok = super().validate(extra_validators)
        for name, digits in pool_config.DECIMAL_FIELDS.items():
            value, field = self[name].data, self[name]
            if value is None or field.errors:
                continue
            if value >= Decimal(10) ** digits:
                field.errors.append(f"{field.label.text} must be less than {10 ** digits:,}.")
                ok = False
            elif value != value.quantize(Decimal("0.0001"), rounding="ROUND_DOWN"):
                field.errors.append(f"{field.label.text} allows at most 4 digits after the point.")
                ok = False
        return ok

    def validate_min_trade_base(self, field: StringField) -> None:
        """A positive amount with the token's decimals."""
        self._atoms(field.name)

    def validate_max_trade_base(self, field: StringField) -> None:
        """A positive amount, not below the minimum trade."""
        high = self._atoms(field.name)
        try:
            low = self._atoms("min_trade_base")
        except ValidationError:
            return
        if low > high:
            raise ValidationError("The maximum trade must be at least the minimum trade.")

    def validate_target_base(self, field: StringField) -> None:
        """A positive amount."""
        self._atoms(field.name)

    def validate_target_quote(self, field: StringField) -> None:
        """A positive amount."""
        self._atoms(field.name)

    def fill_from(self, pool: Any) -> None:
        """Show a pool's current settings (amounts in human units)."""
        for name in ("base_spread_bps", "size_spread_bps", "size_exponent", "annual_vol_pct", "vol_z", "fee_bps",
                     "replenish_pct_per_hour", "execution_delay_ms", "delay_jitter_ms", "quote_ttl_ms", "active"):
            self[name].data = getattr(pool, name)
        for name, (column, side) in POOL_AMOUNTS.items():
            self[name].data = format_ui(getattr(pool, column), self.decimals[side], None).replace(",", "")

    def changes(self) -> dict[str, Any]:
        """The pool_config.parse_changes body: decimals as strings, atoms as strings, ms as ints, active."""
        body: dict[str, Any] = {name: str(self[name].data) for name in (
            "base_spread_bps", "size_spread_bps", "size_exponent", "annual_vol_pct", "vol_z", "fee_bps",
            "replenish_pct_per_hour")}
        body |= {name: int(self[name].data) for name in ("execution_delay_ms", "delay_jitter_ms", "quote_ttl_ms")}
        body |= {column: str(self._atoms(name)) for name, (column, _) in POOL_AMOUNTS.items()}
        body["active"] = bool(self.active.data)
        return body

    def field_for(self, column: str | None) -> Any:
        """The form field that edits a pool column (for pool_config's field-level errors), or None."""
        if column is None:
            return None
        for name, (col, _) in POOL_AMOUNTS.items():
            if col == column:
                return self[name]
        return self[column] if column in self._fields else None


# ---------- admin: users and API tokens (issue 18 item 14); the rules themselves live in services.accounts ----------

PASSWORD_MODES = {"generate": "generate one (shown once)", "set": "type one"}


class _PasswordChoice(FlaskForm):
    """A password to set: generated (shown once) or typed twice; accounts.check_password's rule."""

    mode = RadioField("Password", choices=PASSWORD_MODES, default="generate",
                      validators=[InputRequired(message="Choose whether to generate or type the password.")])
    password = PasswordField("New password", render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat the password", render_kw={"autocomplete": "new-password"})

    def validate_password(self, field: PasswordField) -> None:
        """Required when typed; 12 to 256 characters."""
        if self.mode.data != "set":
            return
        if not field.data:
            raise ValidationError("Type the new password, or choose to generate one.")
        try:
            accounts.check_password(field.data)
        except accounts.AccountError as exc:
            raise ValidationError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None

    def validate_confirm(self, field: PasswordField) -> None:
        """The same password twice."""
        if self.mode.data == "set" and self.password.data and field.data != self.password.data:
            raise ValidationError("The two passwords differ.")

    def chosen_password(self) -> tuple[str, bool]:
        """(password, generated) after validation."""
        if self.mode.data == "set":
            return self.password.data, False
        return accounts.generate_password(), True


class NewUserForm(_PasswordChoice):
    """A new desk user: username, role and the initial password."""

    username = StringField("Username", validators=[DataRequired(message="Enter a username.")],
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                                      "maxlength": 64})
    role = SelectField("Role", choices={r: r for r in ROLES}, default="viewer")

    def validate_username(self, field: StringField) -> None:
        """accounts.USERNAME_RE, and not taken (case-insensitive)."""
        name = (field.data or "").strip().lower()
        if not accounts.USERNAME_RE.match(name):
            raise ValidationError("Use 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
                                  "starting with a letter or digit.")
        if accounts.user_by_name(name) is not None:
            raise ValidationError(f"A user named {name} exists already.")


class ResetPasswordForm(_PasswordChoice):
    """A user's new password (their sessions keep working; deactivate the user to lock them out)."""


class NewTokenForm(FlaskForm):
    """A new API token for an active user, with a label."""

    username = SelectField("User", validators=[InputRequired(message="Choose whose token this is.")])
    name = StringField("Label", validators=[Length(max=64, message="Keep the label to 64 characters.")],
                       render_kw={"autocomplete": "off", "placeholder": "pricing-bot", "maxlength": 64})

    def __init__(self, *args: Any, usernames: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username.choices = [(name, name) for name in usernames or []]


class RevokeTokenForm(FlaskForm):
    """Confirms revoking one token: the posted id must be the token's own."""

    token_id = HiddenField(validators=[InputRequired(message="Confirm which token to revoke.")])
