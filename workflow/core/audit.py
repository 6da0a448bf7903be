"""The append-only, hash-chained audit log (DESIGN §6).

    hash(seq) = SHA-256(bytes.fromhex(prev_hash) ‖ canonical_json(event))
    prev_hash of seq 1 = "0" * 64 (the genesis)

``event`` is the object with exactly the keys seq, time, actor, role, task_id, kind,
from_state, to_state, reason, payload; canonical JSON is sorted keys, separators "," and ":",
no ASCII escaping, UTF-8. The stored ``payload`` column is itself canonical JSON, so the
canonical form of an event is assembled from the columns without re-encoding the payload.
The full specification, with a stand-alone checker, is in docs/AUDIT.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from json.encoder import encode_basestring  # the C-accelerated, ensure_ascii=False encoder
from typing import Any, NamedTuple

from workflow.core import events, identity

GENESIS = "0" * 64
ALGORITHM = "ssj-audit-v1"
EVENT_KEYS = (
    "seq",
    "time",
    "actor",
    "role",
    "task_id",
    "kind",
    "from_state",
    "to_state",
    "reason",
    "payload",
)
COLUMNS = (
    "seq, at, actor, role, task_id, kind, from_state, to_state, reason, payload, prev_hash, hash"
)


# One encoder for all: json.dumps with non-default options builds a new one on every call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def _s(v: str | None) -> str:
    return "null" if v is None else encode_basestring(v)


def event_bytes(
    seq: int,
    time: str,
    actor: str,
    role: str,
    task_id: int | None,
    kind: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None,
    payload_json: str,
) -> bytes:
    """canonical_json(event) with the payload given as its canonical JSON text (keys sorted)."""
    return (
        f'{{"actor":{_s(actor)},"from_state":{_s(from_state)},"kind":{_s(kind)},'
        f'"payload":{payload_json},"reason":{_s(reason)},"role":{_s(role)},"seq":{seq},'
        f'"task_id":{"null" if task_id is None else task_id},"time":{_s(time)},'
        f'"to_state":{_s(to_state)}}}'
    ).encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


class Head(NamedTuple):
    seq: int
    hash: str
    at: str = ""

    def stamp(self, now: str) -> str:
        """The time for the next event: ``now``, the writer's clock (the real one on a live
        database, Workflow._now), whatever the head says. Copying a later head's time let one
        event dated ahead of the clock date every event after it (issue 9); seq, not time, is
        the log's order, and "the log as of T" is the prefix up to the last event stamped at or
        before T (workflow/replay.py, docs/AUDIT.md)."""
        return now


def event_kind(text: str) -> str:
    """An event kind as a filter names it: one of the declared kinds (core/events.py)."""
    from workflow.core.errors import InvalidInput

    kind = text.strip()
    if kind not in events.EVENTS:
        raise InvalidInput(
            f"事件类别 {text!r} 无效：应为 {'、'.join(events.EVENTS)} 之一",
            field="kind",
            value=text,
        )
    return kind


def utc_text(text: str, tz: str, field: str) -> str:
    """A moment as a person gives it (ISO 8601; without an offset in ``tz``) as the log stores
    times, to compare with them; a bad one is an InvalidInput naming ``field``."""
    from workflow.core.clock import format_utc, parse_time
    from workflow.core.errors import InvalidInput

    try:
        return format_utc(parse_time(text, tz))
    except ValueError as e:
        raise InvalidInput(str(e), field=field, value=text) from None
    except OverflowError:  # a year 1 or 9999 that the time zone carries off the calendar
        raise InvalidInput(f"时刻 {text!r} 超出可处理的范围", field=field, value=text) from None


def read_head(cur: Any, sql: Any) -> Head:
    cur.execute(sql("SELECT seq, hash, at FROM event ORDER BY seq DESC LIMIT 1"))
    row = cur.fetchone()
    return Head(0, GENESIS) if row is None else Head(row[0], row[1], row[2])


_INSERT = (
    "INSERT INTO event (seq, at, actor, role, task_id, kind, from_state, to_state, reason,"
    " payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def attributed(
    actor: str, role: str, payload: dict[str, Any], bound: identity.Actor | None = None
) -> tuple[str, str, dict[str, Any]]:
    """The actor, role and payload an event is written with: when an account is bound (every
    command and request), the event's actor and role are that account's, never a name the
    caller typed, and ``payload.by`` records the account (id, username, name, role, unit and,
    over HTTP, the request id). Scheduled work keeps the ``system`` actor and role; ``by``
    still names the account that ran it."""
    bound = bound or identity.current()
    if bound is None:
        return actor, role, payload
    if role != "system":
        actor, role = bound.username, bound.role
    return actor, role, {**payload, "by": bound.record()}


def append(
    cur: Any,
    sql: Any,
    head: Head,
    *,
    at: str,
    actor: str,
    role: str,
    task_id: int | None,
    kind: str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Head:
    """Append one event after ``head``, inside the caller's write transaction (which holds the
    append lock and read ``head`` under it). The kind must be declared (core/events.py)."""
    events.require(kind, task=task_id is not None)
    seq = head.seq + 1
    actor, role, payload = attributed(actor, role, payload or {})
    payload_json = canonical_json(payload)
    digest = chain_hash(
        head.hash,
        event_bytes(
            seq, at, actor, role, task_id, kind, from_state, to_state, reason, payload_json
        ),
    )
    cur.execute(
        sql(_INSERT),
        (
            seq,
            at,
            actor,
            role,
            task_id,
            kind,
            from_state,
            to_state,
            reason,
            payload_json,
            head.hash,
            digest,
        ),
    )
    return Head(seq, digest, at)


def append_many(
    cur: Any,
    sql: Any,
    head: Head,
    batch: Iterable[tuple[str, str, int | None, str | None, str | None, dict[str, Any]]],
    *,
    at: str,
    role: str,
) -> Head:
    """Append many events (actor, kind, task_id, reason, state, payload) in one statement batch,
    inside the caller's write transaction; for bulk changes such as a directory import."""
    rows = []
    prev, seq = head.hash, head.seq
    checked: set[tuple[str, bool]] = set()  # a million rows share a kind or two
    bound = identity.current()
    for actor, kind, task_id, reason, state, payload in batch:
        if (kind, task_id is not None) not in checked:
            events.require(kind, task=task_id is not None)
            checked.add((kind, task_id is not None))
        seq += 1
        if bound is not None:
            actor, role, payload = attributed(actor, role, payload, bound)
        pj = canonical_json(payload)
        digest = chain_hash(
            prev, event_bytes(seq, at, actor, role, task_id, kind, state, state, reason, pj)
        )
        rows.append((seq, at, actor, role, task_id, kind, state, state, reason, pj, prev, digest))
        prev = digest
    if rows:
        cur.executemany(sql(_INSERT), rows)
    return Head(seq, prev, at if rows else head.at)


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(slots=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS
    head_time: str | None = None
    # What the verification could not establish (e.g. a file checked without a checkpoint:
    # nothing pins its length, so a log cut short still verifies).
    note: str | None = None
    needs: str | None = None  # the input that would settle the note ("against": a checkpoint)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("note", "needs"):  # these appear only when there is something to note
            if out[key] is None:
                del out[key]
        return out


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    time: str | None
    algorithm: str = ALGORITHM
    exported_at: str | None = None
    signed_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The checkpoint as an auditor keeps it (the file ``audit checkpoint`` writes)."""
        return {
            "algorithm": self.algorithm,
            "seq": self.seq,
            "hash": self.hash,
            "time": self.time,
            "exported_at": self.exported_at,
            "signed_by": self.signed_by,
        }

    @classmethod
    def load(cls, path: str) -> Checkpoint:
        try:
            with open(path, "rb") as f:
                text = f.read(MAX_CHECKPOINT + 1)  # a checkpoint is a few hundred bytes
        except OSError as e:
            raise ValueError(f"无法读取检查点文件 {path}：{e.strerror}") from e
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: bytes, source: str) -> Checkpoint:
        """A checkpoint file's content (``source`` names it in the message when it is not
        one): ValueError for anything that is not a checkpoint."""
        try:
            if len(text) > MAX_CHECKPOINT:
                raise ValueError("文件过大，不是检查点")
            data = json.loads(text.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
                raise ValueError("seq 应为整数")
            if data["seq"] < 0:
                raise ValueError("seq 不能为负")
            return cls(
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                time=data.get("time"),
                algorithm=data.get("algorithm", ALGORITHM),
                exported_at=data.get("exported_at"),
                signed_by=data.get("signed_by"),
            )
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as e:
            raise ValueError(f"检查点文件 {source} 格式无效（需要 seq 与 hash）：{e}") from e


MAX_CHECKPOINT = 1024 * 1024  # bytes: a checkpoint file is a few hundred


Row = tuple[Any, ...]  # in COLUMNS order


def verify_rows(
    rows: Iterable[Row],
    against: Checkpoint | None = None,
    *,
    after: int = 0,
    running: str = GENESIS,
) -> VerifyResult:
    """Walk rows in seq order; name the first seq that breaks the chain or the checkpoint.
    ``after``/``running``: the rows continue a walk that verified the log up to seq ``after``
    and computed ``running`` as its hash (``verify_chunk``); the counts include that part."""
    expected_seq = after + 1
    checkpoint_hit = against is None or against.seq <= after
    head_time: str | None = None
    for seq, at, actor, role, task_id, kind, frm, to, reason, payload, prev, digest in rows:
        n = expected_seq - 1
        if seq != expected_seq:
            why = f"序号不连续：应为 {expected_seq}，实为 {seq}（事件被删除、插入或调换）"
            return VerifyResult(False, n, expected_seq, why, n, running)
        if prev != running:
            why = f"事件 {seq} 的 prev_hash 与前一事件的哈希不符（事件被删除、插入或调换）"
            return VerifyResult(False, n, seq, why, n, running)
        computed = chain_hash(
            running, event_bytes(seq, at, actor, role, task_id, kind, frm, to, reason, payload)
        )
        if computed != digest:
            why = f"事件 {seq} 的内容与其哈希不符（事件被修改）"
            return VerifyResult(False, n, seq, why, n, running)
        running = computed
        head_time = at
        if against is not None and seq == against.seq:
            if computed != against.hash:
                why = f"日志不再延续检查点：序号 {seq} 的哈希与检查点不同（日志被重写）"
                return VerifyResult(False, seq, seq, why, seq, computed)
            checkpoint_hit = True
        expected_seq += 1
    n = expected_seq - 1
    if not checkpoint_hit:
        assert against is not None
        why = f"日志只有 {n} 个事件，短于检查点的序号 {against.seq}（尾部被截断）"
        return VerifyResult(False, n, n + 1, why, n, running)
    return VerifyResult(True, n, None, None, n, running, head_time)


def iter_db_rows(raw: Any, batch: int = 20000) -> Iterator[Row]:
    """Stream the log in seq order from a RawConnection without loading it whole."""
    cur = raw.dbapi.cursor(name="ssj_log") if raw.postgres else raw.dbapi.cursor()
    try:
        if raw.postgres:
            cur.itersize = batch
        cur.execute(f"SELECT {COLUMNS} FROM event ORDER BY seq")
        while rows := cur.fetchmany(batch):
            yield from rows
    finally:
        cur.close()
        raw.dbapi.rollback()


def verify_db(raw: Any, against: Checkpoint | None = None) -> VerifyResult:
    return verify_rows(iter_db_rows(raw), against)


CHUNK = 20000  # events a step of a verification in chunks reads


@dataclass(frozen=True, slots=True)
class VerifyStep:
    """One step of a verification walked in chunks: the result so far (``events`` and
    ``head_seq``: verified up to here; ``head_hash``: the hash to continue from), the log's
    last seq when the step ran (for progress), and whether the walk is over (the chain broke,
    or no event was left to read)."""

    result: VerifyResult
    last_seq: int
    done: bool


def verify_chunk(
    raw: Any, *, after: int = 0, running: str = GENESIS, limit: int = CHUNK
) -> VerifyStep:
    """Verify the events after seq ``after``, at most ``limit`` of them, continuing from
    ``running``, the hash the previous step computed for ``after`` (GENESIS to start). A page
    advances step by step and reports how far it got; the steps together check exactly what
    ``verify_db`` checks, and name the same first bad seq."""
    if after < 0 or limit < 1:
        raise ValueError("after must be >= 0 and limit >= 1")
    with raw.read() as cur:
        cur.execute(
            raw.sql(f"SELECT {COLUMNS} FROM event WHERE seq > ? ORDER BY seq LIMIT ?"),
            (after, limit),
        )
        rows = cur.fetchall()
        last = read_head(cur, raw.sql).seq
    result = verify_rows(rows, after=after, running=running)
    return VerifyStep(result, max(last, result.head_seq), not result.ok or len(rows) < limit)


def checkpoint(raw: Any, *, now: str, signed_by: str | None = None) -> Checkpoint:
    """The log's head (seq, hash, time) as a checkpoint for an auditor to keep, after
    verifying the whole chain: a broken chain is refused (Conflict naming the first bad
    event), since a checkpoint would vouch for it. Writes nothing."""
    from workflow.core.errors import Conflict

    result = verify_db(raw)
    if not result.ok:
        raise Conflict(
            f"哈希链已损坏（序号 {result.first_bad_seq}：{result.reason}），不能签出检查点",
            first_bad_seq=result.first_bad_seq,
        )
    return Checkpoint(
        seq=result.head_seq,
        hash=result.head_hash,
        time=result.head_time,
        exported_at=now,
        signed_by=signed_by,
    )


# ---------------------------------------------------------------------------------------------
# Export (JSON Lines) and verification of an export with no database at all


def row_to_record(row: Row) -> dict[str, Any]:
    seq, at, actor, role, task_id, kind, frm, to, reason, payload, prev, digest = row
    return {
        "seq": seq,
        "time": at,
        "actor": actor,
        "role": role,
        "task_id": task_id,
        "kind": kind,
        "from_state": frm,
        "to_state": to,
        "reason": reason,
        "payload": json.loads(payload),
        "prev_hash": prev,
        "hash": digest,
    }


def export_lines(rows: Iterable[Row]) -> Iterator[str]:
    for row in rows:
        yield canonical_json(row_to_record(row)) + "\n"


def export(raw: Any, by: identity.Actor | None = None) -> Iterator[str]:
    """The whole log as JSON Lines (one event a line, hashes included), streamed from ``raw``.
    Only the whole log verifies, and it holds every unit's events: ``by`` must be an account
    of the root unit (checked now, before the first line)."""
    if by is not None:
        from workflow.core import units

        with raw.read() as cur:
            units.require_whole(cur, raw.sql, by, "导出审计日志")
    return export_lines(iter_db_rows(raw))


class BadExportLine(ValueError):
    def __init__(self, line_no: int, message: str) -> None:
        self.line_no = line_no
        super().__init__(f"第 {line_no} 行：{message}")


MAX_EXPORT_LINE = 64 * 1024 * 1024  # one event; a draw record's digest, never the record


def rows_from_export(lines: Iterable[str | bytes]) -> Iterator[Row]:
    """Parse an export back into rows; the payload is re-canonicalized from its parsed value.
    Any line that is not a well-formed event (not UTF-8, not JSON, nested too deep, a number
    out of range, a missing key) is a BadExportLine naming the line, never another error."""
    for line_no, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
        except UnicodeDecodeError as e:
            raise BadExportLine(
                line_no, f"不是有效的 UTF-8 文本（行内字节位置 {e.start}）"
            ) from None
        if len(text) > MAX_EXPORT_LINE:
            raise BadExportLine(line_no, f"过长（超过 {MAX_EXPORT_LINE} 字节），不是一个事件")
        if not text.strip():
            continue
        try:
            rec = json.loads(text)
            yield (
                rec["seq"],
                rec["time"],
                rec["actor"],
                rec["role"],
                rec["task_id"],
                rec["kind"],
                rec["from_state"],
                rec["to_state"],
                rec["reason"],
                canonical_json(rec["payload"]),
                rec["prev_hash"],
                rec["hash"],
            )
        except RecursionError:
            raise BadExportLine(line_no, "不是有效的事件记录（JSON 嵌套过深）") from None
        except (ValueError, KeyError, TypeError) as e:
            raise BadExportLine(line_no, f"不是有效的事件记录（{e}）") from e


def _bounded_lines(f: Any) -> Iterator[bytes]:
    """Lines of a binary file, each read with a bound: a file with no line breaks is never
    read into memory whole."""
    while line := f.readline(MAX_EXPORT_LINE + 1):
        yield line


def verify_export(path: str, against: Checkpoint | None = None) -> VerifyResult:
    """Verify an exported log file (OSError when it cannot be read). A file without events
    fails; without a checkpoint the result notes that the file's length is not proven."""
    with open(path, "rb") as f:
        try:
            result = verify_rows(rows_from_export(_bounded_lines(f)), against)
        except BadExportLine as e:
            return VerifyResult(False, e.line_no - 1, None, f"{path}：{e}")
    if result.ok and result.events == 0:
        return VerifyResult(False, 0, 1, "日志文件中没有任何事件（空文件或内容已被清空）")
    if result.ok and against is None:
        result.note = (
            "未指定检查点：没有什么能证明这个文件是完整的——尾部被截掉的日志也能通过校验。"
            "请对照审计人员留存的检查点校验"
        )
        result.needs = "against"
    return result
