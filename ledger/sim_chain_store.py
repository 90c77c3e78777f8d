"""The simulated chain's state in the database, so every gunicorn worker and host sees one chain.

Each call uses its own connection and transaction (never the request's ORM session): landing a transaction
applies its balance changes (atoms since funding) and records it in one transaction; a signature lands once.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.sim_tables import SimChainBalance, SimChainTransaction
from models import db, utcnow


class DbChainStore:
    """The ChainStore of sim/rpc.py on the app's database (tables sim_chain_transactions, sim_chain_balances);
    `displaced` gives the simulated pools' displacement by our swaps at a time (sim.impact.PoolBook.displaced)."""

    def __init__(self, displaced: Callable[[float], Mapping[str, int]] | None = None) -> None:
        self._displaced = displaced

    def displaced(self, now_s: float) -> Mapping[str, int]:
        """Each pool's displacement at now_s (base atoms per amm_key); none when no pool book is wired."""
        return self._displaced(now_s) if self._displaced is not None else {}

    def landed(self, signature: str) -> dict[str, Any] | None:
        """The landed record {signature, owner, slot, tx, err, pre, post}, or None."""
        t = SimChainTransaction.__table__
        with db.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.signature == signature)).mappings().first()
        return None if row is None else {k: row[k] for k in ("signature", "owner", "slot", "tx", "err", "pre", "post")}

    def balances(self, owner: str) -> dict[str, int]:
        """Each mint's (and 'lamports') change in atoms since the owner's funding."""
        b = SimChainBalance.__table__
        with db.engine.connect() as conn:
            rows = conn.execute(select(b.c.mint, b.c.delta_atoms).where(b.c.owner == owner)).all()
        return {mint: int(delta) for mint, delta in rows}

    def land(self, signature: str, owner: str, slot: int, tx: str, err: Any, deltas: dict[str, int]) -> bool:
        """Apply the deltas (atoms) and record the transaction with its pre/post balances; False if it landed before.

        One UPDATE ... RETURNING per key (an INSERT the first time a key moves) and one INSERT of the transaction,
        in one database transaction: a signature that landed before fails the INSERT on its primary key and rolls the
        balance changes back with it."""
        b, t = SimChainBalance.__table__, SimChainTransaction.__table__
        try:
            with db.engine.begin() as conn:
                pre, post = {}, {}
                for key, delta in sorted(deltas.items()):
                    mine = (b.c.owner == owner) & (b.c.mint == key)
                    after = conn.execute(update(b).where(mine).values(delta_atoms=b.c.delta_atoms + delta)
                                         .returning(b.c.delta_atoms)).scalar()
                    if after is None:
                        conn.execute(insert(b).values(owner=owner, mint=key, delta_atoms=delta))
                        after = delta
                    post[key] = int(after)
                    pre[key] = post[key] - delta
                conn.execute(insert(t).values(signature=signature, owner=owner, slot=slot, tx=tx, err=err, pre=pre,
                                              post=post, created_at=utcnow()))
        except IntegrityError:
            return False  # it landed before, or another worker landed it (or funded the row) first
        return True
