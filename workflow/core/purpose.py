"""What a database is for: ``live`` (a bureau's real work), ``demo`` or ``test``.

Stored as the ``purpose`` row of ``database_info`` (migration 0005). A live database's events
carry the real time only: ``--now`` on a writing command rehearses there (a dry run), and the
engine refuses any write at another time (``Workflow.check_time``). A demo or test database
accepts writes dated by ``--now`` or a fixed clock, so a demo can be walked through a year.
A database without the row (upgraded from before 0005) is live: the safe reading.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from workflow.core.db import RawConnection
from workflow.core.errors import InvalidInput

LIVE, DEMO, TEST = "live", "demo", "test"
PURPOSES = {LIVE: "正式库", DEMO: "演示库", TEST: "测试库"}
KEY = "purpose"


def check(value: str) -> str:
    if value not in PURPOSES:
        raise InvalidInput(
            f"数据库用途 {value!r} 无效：应为 "
            + "、".join(f"{k}（{v}）" for k, v in PURPOSES.items())
        )
    return value


def stored(conn: Connection) -> str | None:
    """The recorded purpose, or None when none was recorded."""
    row = conn.execute(
        text("SELECT value FROM database_info WHERE key = :k"), {"k": KEY}
    ).fetchone()
    return None if row is None else str(row[0])


def read(engine: Engine) -> str:
    """The database's purpose; live when none was recorded."""
    with engine.connect() as conn:
        return stored(conn) or LIVE


def read_raw(raw: RawConnection) -> str:
    """As ``read``, on the engine's own DBAPI connection: inside the caller's transaction when
    one is open (the write path asks there), else in a read of its own."""
    conn = raw.dbapi
    in_tx = (
        conn.info.transaction_status != conn.info.transaction_status.IDLE
        if raw.postgres
        else conn.in_transaction
    )
    cur = conn.cursor()
    try:
        cur.execute(raw.sql("SELECT value FROM database_info WHERE key = ?"), (KEY,))
        row = cur.fetchone()
    finally:
        cur.close()
        if not in_tx:
            conn.rollback()
    return LIVE if row is None else str(row[0])


def write(engine: Engine, value: str) -> None:
    """Record the purpose (insert or replace the row)."""
    check(value)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM database_info WHERE key = :k"), {"k": KEY})
        conn.execute(
            text("INSERT INTO database_info (key, value) VALUES (:k, :v)"), {"k": KEY, "v": value}
        )


def is_empty(engine: Engine) -> bool:
    """No event yet: nothing of value would be lost by choosing another purpose."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM event LIMIT 1")).fetchone() is None


def settle(engine: Engine, wanted: str | None) -> tuple[str, bool]:
    """``ssj init``: record ``wanted`` (default live) on a database that has no purpose yet, or
    change it while the log is empty; a database with events keeps its purpose. Returns
    (purpose, whether it was written)."""
    if wanted is not None:
        check(wanted)
    with engine.connect() as conn:
        current = stored(conn)
    if current is None:
        write(engine, wanted or LIVE)
        return wanted or LIVE, True
    if wanted is None or wanted == current:
        return current, False
    if not is_empty(engine):
        raise InvalidInput(
            f"数据库已是{PURPOSES[current]}（{current}），且已有审计日志：不能改为"
            f"{PURPOSES[wanted]}（{wanted}）。请另建数据库"
        )
    write(engine, wanted)
    return wanted, True


def label(value: str) -> str:
    return f"{PURPOSES.get(value, value)}（{value}）"
