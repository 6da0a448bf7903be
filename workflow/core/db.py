"""Engines and transactions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url

from workflow.core.config import DbSettings


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` (and ``postgres://``) and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(settings: DbSettings, url: str | None = None, *, create: bool = True) -> Engine:
    """An engine for ``url``. ``create=False``: a SQLite file that is not there is an error
    rather than a new empty file (a command that reads must not leave one behind)."""
    url = normalize_url(url or settings.url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        if not create and not Path(database).exists():
            from workflow.core.errors import InvalidInput, Step

            raise InvalidInput(
                f"数据库文件 {database} 不存在：请先初始化数据库，或指明已有的数据库",
                steps=[Step("init")],
                needs="db",
                value=database,
            )
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": settings.busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (BEGIN IMMEDIATE on the write path), not the driver.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA journal_mode={settings.sqlite_journal_mode}")
        cur.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cur.execute(f"PRAGMA busy_timeout={settings.busy_timeout_ms}")
        cur.execute(f"PRAGMA wal_autocheckpoint={settings.sqlite_wal_autocheckpoint}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


# What a read runs on: an engine (the read takes a connection of its own), or a connection the
# caller holds, so that the reads of one web request share one connection (each checkout costs
# round trips: the pool's ping, BEGIN, the ROLLBACK at the end; measured, bench/api.py).
Bind = Engine | Connection


@contextmanager
def connected(bind: Bind) -> Iterator[Connection]:
    """A connection for a read: ``bind`` itself, or one of the engine's for the block, whose
    transaction ends with a COMMIT (see ``RawConnection.read``) unless the block raised."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as c:
            yield c
            c.commit()


_REPEATABLE_READ = 3  # psycopg.IsolationLevel.REPEATABLE_READ (psycopg is imported lazily)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class RawConnection:
    """One DBAPI connection for the hot paths (write path, verify, replay).

    SQL is written with ``?`` placeholders and translated once for psycopg's ``%s``.
    """

    def __init__(self, engine: Engine, fairy: Any = None) -> None:
        self.engine = engine
        self.postgres = is_postgres(engine)
        # Its own pooled connection, or one it borrows (``over``) and does not return.
        self._owned = fairy is None
        self._fairy = engine.raw_connection() if fairy is None else fairy
        self.dbapi: Any = self._fairy.driver_connection
        self._sql: dict[str, str] = {}
        # Opens a write transaction holding the log's append lock (see ``write``).
        self.begin_write = (
            "LOCK TABLE event IN SHARE ROW EXCLUSIVE MODE" if self.postgres else "BEGIN IMMEDIATE"
        )

    def sql(self, text: str) -> str:
        out = self._sql.get(text)
        if out is None:
            out = text.replace("?", "%s") if self.postgres else text
            self._sql[text] = out
        return out

    @contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction holding the log's append lock until commit.

        The chain is one global sequence, so appenders are serialized: SQLite by BEGIN
        IMMEDIATE (the database write lock), PostgreSQL by a table lock on ``event`` that
        conflicts with itself and with inserts but not with readers.
        """
        cur = self.dbapi.cursor()
        try:
            cur.execute(self.begin_write)
            yield cur
            self.dbapi.commit()
        except BaseException:
            self.dbapi.rollback()
            raise
        finally:
            cur.close()

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A read-only snapshot (one transaction), ended with a COMMIT, or a rollback if the
        block raised. For a transaction that wrote nothing the two are the same, but psycopg
        forgets its prepared statements at every ROLLBACK: reads ended so were planned again
        each time (a web request's token lookup: ≈ 1 ms of planning; bench/api.py)."""
        cur = self.dbapi.cursor()
        ok = False
        try:
            if not self.postgres:
                cur.execute("BEGIN")
            else:
                # psycopg then opens the transaction with BEGIN ISOLATION LEVEL REPEATABLE READ
                # at the first statement: one round trip, not BEGIN and a SET TRANSACTION.
                self.dbapi.isolation_level = _REPEATABLE_READ
            yield cur
            ok = True
        finally:
            cur.close()
            if ok:
                self.dbapi.commit()
            else:
                self.dbapi.rollback()
            if self.postgres:
                self.dbapi.isolation_level = None  # the server's default again (the writer's)

    @contextmanager
    def statement(self) -> Iterator[Any]:
        """A cursor for one read statement, outside any explicit transaction (a statement is
        its own snapshot): one round trip instead of ``read``'s three (BEGIN, the statement,
        COMMIT) — a web request's token lookup. PostgreSQL: autocommit for the block;
        SQLite (pysqlite) opens no transaction for a SELECT anyway."""
        cur = self.dbapi.cursor()
        try:
            if self.postgres:
                self.dbapi.autocommit = True
            yield cur
        finally:
            cur.close()
            if self.postgres:
                self.dbapi.autocommit = False

    def select_in(self, cur: Any, select: str, column: str, values: list[Any]) -> list[Any]:
        """Rows of ``select WHERE column IN values``: one array parameter on PostgreSQL (long
        IN lists, once psycopg prepares them, were planned as sequential scans: measured,
        bench/sweep.py), chunks of 500 on SQLite (its parameter limit)."""
        if self.postgres:
            cur.execute(f"{select} WHERE {column} = ANY(%s)", (list(values),))
            return list(cur.fetchall())
        rows: list[Any] = []
        for i in range(0, len(values), 500):
            chunk = values[i : i + 500]
            cur.execute(f"{select} WHERE {column} IN ({', '.join('?' * len(chunk))})", chunk)
            rows.extend(cur.fetchall())
        return rows

    @classmethod
    def over(cls, conn: Connection) -> RawConnection:
        """The DBAPI connection under a SQLAlchemy connection, borrowed: ``close`` leaves it
        to its owner. Its transactions must end before the owner's next statement (they do:
        ``read`` and ``write`` commit or roll back)."""
        return cls(conn.engine, conn.connection)

    def close(self) -> None:
        if self._owned:
            self._fairy.close()
