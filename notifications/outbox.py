"""The transactional outbox: a message is a row written in the same transaction as the event
that causes it, and delivered later by whoever claims it.

Each row has a unique ``key`` (task, deadline, step, recipient), so the same message can be
enqueued any number of times and exists once. Delivery claims rows with a lease: two
processes never hold one row at once, and a process that dies mid-batch leaves its rows to the
next after ``lease_until``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

STATUSES = ("pending", "sending", "sent", "dead")


class Outbox(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    recipient: str = Field(max_length=200)  # e-mail address
    recipient_name: str = Field(default="", max_length=100)
    template: str = Field(max_length=64)
    context: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    digest: bool = False  # bundled into the recipient's daily digest
    status: str = Field(max_length=8)
    attempts: int = 0
    next_attempt_at: str = Field(max_length=27)
    lease_until: str | None = Field(default=None, max_length=27)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: str = Field(max_length=27)
    sent_at: str | None = Field(default=None, max_length=27)


class Db(Protocol):
    """What the outbox needs of a database connection (workflow.core.db.RawConnection has it)."""

    dbapi: Any
    postgres: bool

    def sql(self, text: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    recipient: str
    recipient_name: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    digest: bool = False
    not_before: str | None = None  # UTC text; digests wait for their hour


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    key: str
    recipient: str
    recipient_name: str
    template: str
    context: dict[str, Any]
    digest: bool
    attempts: int


_INSERT = (
    "INSERT INTO outbox (key, recipient, recipient_name, template, context, digest, status,"
    " attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
    " ON CONFLICT (key) DO NOTHING"
)


def enqueue(cur: Any, db: Db, messages: Iterable[Message], now: str) -> int:
    """Insert messages inside the caller's transaction; a key already there is left alone."""
    encoded: dict[int, str] = {}  # recipients of one step share its context: encode it once

    def text(context: dict[str, Any]) -> str:
        t = encoded.get(id(context))
        if t is None:
            t = encoded[id(context)] = json.dumps(context, ensure_ascii=False, sort_keys=True)
        return t

    rows = [
        (
            m.key,
            m.recipient,
            m.recipient_name,
            m.template,
            text(m.context),
            m.digest,
            m.not_before or now,
            now,
        )
        for m in messages
    ]
    if rows:
        cur.executemany(db.sql(_INSERT), rows)
    return len(rows)


@contextmanager
def _tx(db: Db) -> Iterator[Any]:
    cur = db.dbapi.cursor()
    try:
        if not db.postgres:
            cur.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade deadlock
        yield cur
        db.dbapi.commit()
    except BaseException:
        db.dbapi.rollback()
        raise
    finally:
        cur.close()


def claim(db: Db, now: str, lease_until: str, limit: int) -> list[Row]:
    """Take up to ``limit`` messages that are due (pending, or sending with a lapsed lease)."""
    where = (
        " WHERE ((status = 'pending' AND next_attempt_at <= ?)"
        " OR (status = 'sending' AND lease_until < ?))"
    )
    lock = " FOR UPDATE SKIP LOCKED" if db.postgres else ""
    with _tx(db) as cur:
        cur.execute(
            db.sql(
                "SELECT id, key, recipient, recipient_name, template, context, digest, attempts"
                f" FROM outbox{where} ORDER BY id LIMIT ?{lock}"
            ),
            (now, now, limit),
        )
        rows = [
            Row(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), bool(r[6]), r[7])
            for r in cur.fetchall()
        ]
        if rows:
            cur.executemany(
                db.sql("UPDATE outbox SET status = 'sending', lease_until = ? WHERE id = ?"),
                [(lease_until, r.id) for r in rows],
            )
    return rows


def mark_sent(db: Db, ids: list[int], now: str) -> None:
    with _tx(db) as cur:
        cur.executemany(
            db.sql(
                "UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL,"
                " attempts = attempts + 1, last_error = NULL WHERE id = ?"
            ),
            [(now, i) for i in ids],
        )


def mark_failed(
    db: Db, failures: list[tuple[Row, str]], now: str, retry_at: Any, max_attempts: int
) -> int:
    """Count a failed attempt for each row; back to pending at ``retry_at(attempts)``, or dead
    after ``max_attempts``. Returns how many went dead."""
    dead = 0
    params = []
    for row, error in failures:
        attempts = row.attempts + 1
        if attempts >= max_attempts:
            dead += 1
            params.append(("dead", attempts, now, error[:2000], row.id))
        else:
            params.append(("pending", attempts, retry_at(attempts), error[:2000], row.id))
    with _tx(db) as cur:
        cur.executemany(
            db.sql(
                "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, lease_until = NULL WHERE id = ?"
            ),
            params,
        )
    return dead


def retry(db: Db, outbox_id: int, now: str) -> str:
    """Put a dead (or failing) message back in line now. Returns its previous status."""
    with _tx(db) as cur:
        cur.execute(db.sql("SELECT status FROM outbox WHERE id = ?"), (outbox_id,))
        row = cur.fetchone()
        if row is None:
            raise LookupError(outbox_id)
        if row[0] in ("pending", "dead"):
            cur.execute(
                db.sql(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,"
                    " lease_until = NULL WHERE id = ?"
                ),
                (now, outbox_id),
            )
    return str(row[0])


COLUMNS = (
    "id",
    "key",
    "recipient",
    "recipient_name",
    "template",
    "digest",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
)


def listing(
    db: Db, status: str | None = None, limit: int = 1000, after: int | None = None
) -> list[dict[str, Any]]:
    """Messages by id (``status``: only those; ``after``: ids above it, a page's cursor)."""
    clauses: list[str] = []
    params: list[Any] = []
    if status:
        clauses.append("status = ?")
        params.append(status)
    if after is not None:
        clauses.append("id > ?")
        params.append(after)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = db.dbapi.cursor()
    try:
        cur.execute(
            db.sql(
                f"SELECT {', '.join(COLUMNS)} FROM outbox {where} ORDER BY id LIMIT {int(limit)}"
            ),
            tuple(params),
        )
        rows = [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]
    finally:
        cur.close()
        db.dbapi.rollback()
    for r in rows:
        r["digest"] = bool(r["digest"])
    return rows


def counts(db: Db) -> dict[str, int]:
    cur = db.dbapi.cursor()
    try:
        cur.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        found = dict(cur.fetchall())
    finally:
        cur.close()
        db.dbapi.rollback()
    return {s: int(found.get(s, 0)) for s in STATUSES}


def release(db: Db, rows: list[Row], next_attempt_at: str, error: str) -> None:
    """Give claimed, untried rows back without counting an attempt."""
    if not rows:
        return
    with _tx(db) as cur:
        cur.executemany(
            db.sql(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?,"
                " lease_until = NULL WHERE id = ?"
            ),
            [(next_attempt_at, error[:2000], r.id) for r in rows],
        )
