"""The simulated AMM pools' displacement rows (persistent impact), shared by every worker and host through the database.

Reads and writes use their own short connection, never the request's session: a quote reads every row in one query
(a handful of rows; no transaction stays open), and a fill updates the rows it touched in one short transaction.
What a displacement means and how it decays is the caller's (sim.impact): this module only stores it.

Atomicity: SELECT ... FOR UPDATE on PostgreSQL (rows locked in key order, so two fills cannot deadlock), and on every
backend an UPDATE ... WHERE version = <version read> (an INSERT for a pool never displaced before), retried when
another writer got there first (SQLite serialises its writers; the version check catches a stale read).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.sim_tables import SimPoolState
from models import utcnow

MAX_RETRIES = 5


class _Stale(Exception):
    """A row changed between its read and its update: the attempt is rolled back and retried."""


@dataclass(frozen=True, slots=True)
class StoredDisplacement:
    """One stored row: the pool's amm_key, displacement in base atoms (signed) and its Unix second."""

    amm_key: str
    base_atoms: int
    as_of_s: int


class DisplacementRow(Protocol):
    """What an update stores per pool: displacement in base atoms (signed) and its Unix second."""

    @property
    def base_atoms(self) -> int: ...
    @property
    def as_of_s(self) -> int: ...


Update = Callable[[Mapping[str, StoredDisplacement]], Mapping[str, DisplacementRow]]


_ROWS = select(SimPoolState.amm_key, SimPoolState.base_atoms, SimPoolState.as_of_s)  # built once: every quote reads it


class SimPoolStore:
    """The displacement rows of the simulated pools, on the app's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self) -> list[StoredDisplacement]:
        """Every stored displacement, in one query on a connection of its own."""
        with self.engine.connect() as conn:
            found = conn.execute(_ROWS).all()
        return [StoredDisplacement(key, base, as_of) for key, base, as_of in found]

    def update(self, keys: Iterable[str], change: Update) -> None:
        """Lock the rows of `keys`, give them to `change` (pure: old rows → new rows) and store its answer."""
        ordered = sorted(set(keys))
        if not ordered:
            return
        for _ in range(MAX_RETRIES):
            try:
                self._try_update(ordered, change)
                return
            except (IntegrityError, _Stale):  # another writer got there first: read again
                continue
        raise RuntimeError("the simulated pools' state kept changing under this fill; gave up after retries")

    def _try_update(self, keys: list[str], change: Update) -> None:
        """One attempt in one transaction; _Stale when a row changed since it was read (nothing is stored)."""
        with self.engine.begin() as conn:
            locked = conn.execute(select(SimPoolState.amm_key, SimPoolState.base_atoms, SimPoolState.as_of_s,
                                         SimPoolState.version).where(SimPoolState.amm_key.in_(keys))
                                  .order_by(SimPoolState.amm_key).with_for_update()).all()
            versions = {key: version for key, _, _, version in locked}
            old = {key: StoredDisplacement(key, base, as_of) for key, base, as_of, _ in locked}
            now = utcnow()
            for key, row in change(old).items():
                if key not in versions:
                    conn.execute(insert(SimPoolState).values(amm_key=key, base_atoms=row.base_atoms,
                                                             as_of_s=row.as_of_s, version=1, updated_at=now))
                    continue
                done = conn.execute(update(SimPoolState).where(SimPoolState.amm_key == key,
                                                               SimPoolState.version == versions[key])
                                    .values(base_atoms=row.base_atoms, as_of_s=row.as_of_s,
                                            version=versions[key] + 1, updated_at=now))
                if done.rowcount != 1:
                    raise _Stale(key)

    def clear(self) -> None:
        """Forget every displacement (pools back at equilibrium): tests and a fresh demo."""
        with self.engine.begin() as conn:
            conn.execute(SimPoolState.__table__.delete())
