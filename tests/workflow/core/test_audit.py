from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy.exc
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from tests.conftest import drawn_task
from workflow.core import audit
from workflow.core.audit import Checkpoint


def _populate(wf, tasks: int = 3) -> None:
    for _ in range(tasks):
        t, codes = drawn_task(wf, 2)
        for c in codes:
            wf.set_result(t, c, "no_problem", actor="甲")
        wf.fire(t, "inspect", actor="甲", reason="检查完毕")


def _drop_append_only(engine) -> None:
    """What an attacker with database admin rights could do first."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP TRIGGER event_no_update_delete ON event"))
        else:
            c.execute(text("DROP TRIGGER event_no_update"))
            c.execute(text("DROP TRIGGER event_no_delete"))


def _rows(engine) -> list[tuple]:
    with engine.connect() as c:
        return [
            tuple(r) for r in c.execute(text(f"SELECT {audit.COLUMNS} FROM event ORDER BY seq"))
        ]


def _checkpoint(wf) -> Checkpoint:
    v = audit.verify_db(wf.raw)
    assert v.ok
    return Checkpoint(seq=v.head_seq, hash=v.head_hash, time=v.head_time)


@given(
    seq=st.integers(1, 10**12),
    text_=st.text(),
    task=st.none() | st.integers(1, 10**9),
    payload=st.dictionaries(
        st.text(), st.none() | st.booleans() | st.integers() | st.text() | st.lists(st.text())
    ),
    reason=st.none() | st.text(),
)
def test_fast_canonical_form_equals_generic_canonical_json(seq, text_, task, payload, reason):
    pj = audit.canonical_json(payload)
    event = {
        "seq": seq,
        "time": "2024-04-01T00:00:00.000000Z",
        "actor": text_,
        "role": "clerk",
        "task_id": task,
        "kind": "transition",
        "from_state": None,
        "to_state": "drawn",
        "reason": reason,
        "payload": payload,
    }
    assert set(event) == set(audit.EVENT_KEYS)
    assert audit.event_bytes(
        seq, event["time"], text_, "clerk", task, "transition", None, "drawn", reason, pj
    ) == audit.canonical_json(event).encode("utf-8")


def test_the_chain_is_sha256_of_previous_hash_and_canonical_event(wf):
    _populate(wf, 1)
    prev = "0" * 64
    for row in _rows(wf.engine):
        rec = audit.row_to_record(row)
        event = {k: rec[k] for k in audit.EVENT_KEYS}
        expected = hashlib.sha256(
            bytes.fromhex(prev)
            + json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        assert rec["prev_hash"] == prev and rec["hash"] == expected
        prev = expected


@pytest.mark.parametrize(
    "statement", ["UPDATE event SET actor = 'x' WHERE seq = 1", "DELETE FROM event WHERE seq = 1"]
)
def test_the_database_itself_refuses_update_and_delete(wf, statement):
    _populate(wf, 1)
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), wf.engine.begin() as c:
        c.execute(text(statement))
    assert audit.verify_db(wf.raw).ok


def test_postgres_also_refuses_truncate(wf):
    if wf.engine.dialect.name != "postgresql":
        assert wf.engine.dialect.name == "sqlite"  # SQLite has no TRUNCATE statement
        return
    _populate(wf, 1)
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), wf.engine.begin() as c:
        c.execute(text("TRUNCATE event"))


def test_an_edited_payload_is_caught_at_its_seq(wf):
    _populate(wf)
    _drop_append_only(wf.engine)
    with wf.engine.begin() as c:
        c.execute(
            text("UPDATE event SET payload = :p WHERE seq = 7"),
            {"p": audit.canonical_json({"trigger": "draw", "data": {"forged": True}})},
        )
    v = audit.verify_db(wf.raw)
    assert (v.ok, v.first_bad_seq) == (False, 7)
    assert "被修改" in v.reason


def test_an_edited_actor_or_time_is_caught(wf):
    _populate(wf)
    _drop_append_only(wf.engine)
    with wf.engine.begin() as c:
        c.execute(text("UPDATE event SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 12"))
    assert audit.verify_db(wf.raw).first_bad_seq == 12


def test_a_deleted_row_is_caught_at_the_missing_seq(wf):
    _populate(wf)
    _drop_append_only(wf.engine)
    with wf.engine.begin() as c:
        c.execute(text("DELETE FROM event WHERE seq = 5"))
    v = audit.verify_db(wf.raw)
    assert (v.ok, v.first_bad_seq, v.events) == (False, 5, 4)


def test_a_swapped_pair_is_caught_at_the_first_of_the_two(wf):
    _populate(wf)
    rows = _rows(wf.engine)
    _drop_append_only(wf.engine)
    a, b = rows[8], rows[9]  # seq 9 and 10
    cols = audit.COLUMNS.split(", ")[1:]
    with wf.engine.begin() as c:
        for target, source in ((a, b), (b, a)):
            sets = ", ".join(f"{col} = :{col}" for col in cols)
            c.execute(
                text(f"UPDATE event SET {sets} WHERE seq = :seq"),
                {**dict(zip(cols, source[1:], strict=True)), "seq": target[0]},
            )
    v = audit.verify_db(wf.raw)
    assert (v.ok, v.first_bad_seq) == (False, 9)


def test_a_truncated_tail_is_caught_against_a_checkpoint(wf):
    _populate(wf)
    cp = _checkpoint(wf)
    _drop_append_only(wf.engine)
    with wf.engine.begin() as c:
        c.execute(text("DELETE FROM event WHERE seq > :s"), {"s": cp.seq - 3})
    assert audit.verify_db(wf.raw).ok  # a bare chain cannot see a cut tail...
    v = audit.verify_db(wf.raw, cp)  # ...the auditor's checkpoint can
    assert (v.ok, v.first_bad_seq) == (False, cp.seq - 2)
    assert "截断" in v.reason


def _rechain(rows: list[tuple], edit_seq: int) -> list[tuple]:
    """A forger who edits one event and recomputes every later hash."""
    out, prev = [], audit.GENESIS
    for row in rows:
        row = list(row)
        if row[0] == edit_seq:
            row[3] = "auditor"  # change the role
        row[10] = prev
        row[11] = audit.chain_hash(prev, audit.event_bytes(*row[:10]))
        prev = row[11]
        out.append(tuple(row))
    return out


def test_a_forged_rechained_log_passes_alone_but_fails_against_an_older_checkpoint(wf):
    _populate(wf, 2)
    old = _checkpoint(wf)
    _populate(wf, 1)  # the log grows after the auditor kept the checkpoint
    rows = _rechain(_rows(wf.engine), edit_seq=4)
    _drop_append_only(wf.engine)
    cols = audit.COLUMNS.split(", ")
    with wf.engine.begin() as c:
        for row in rows:
            sets = ", ".join(f"{col} = :{col}" for col in cols[1:])
            c.execute(
                text(f"UPDATE event SET {sets} WHERE seq = :seq"), dict(zip(cols, row, strict=True))
            )
    assert audit.verify_db(wf.raw).ok
    v = audit.verify_db(wf.raw, old)
    assert (v.ok, v.first_bad_seq) == (False, old.seq)
    assert "检查点" in v.reason


def test_a_good_log_extends_its_checkpoint(wf):
    _populate(wf, 1)
    cp = _checkpoint(wf)
    _populate(wf, 1)
    assert audit.verify_db(wf.raw, cp).ok
    assert (
        audit.verify_db(wf.raw, Checkpoint(seq=cp.seq, hash="f" * 64, time=None)).first_bad_seq
        == cp.seq
    )


# --- the exported log, checked with no database ------------------------------------------------


def _export(wf) -> list[str]:
    return list(audit.export_lines(audit.iter_db_rows(wf.raw)))


def _verify_lines(lines, against=None):
    return audit.verify_rows(audit.rows_from_export(lines), against)


def test_an_export_verifies_on_its_own(wf):
    _populate(wf)
    lines = _export(wf)
    v = _verify_lines(lines)
    assert v.ok and v.events == len(lines) and v.head_hash == audit.verify_db(wf.raw).head_hash


def test_tampered_exports_are_caught_with_the_right_seq(wf):
    _populate(wf)
    cp = _checkpoint(wf)
    lines = _export(wf)

    edited = list(lines)
    rec = json.loads(edited[5])
    rec["payload"]["target_code"] = "X"
    edited[5] = audit.canonical_json(rec) + "\n"
    assert _verify_lines(edited).first_bad_seq == 6

    assert _verify_lines(lines[:3] + lines[4:]).first_bad_seq == 4  # deleted line
    assert _verify_lines([*lines[:6], lines[7], lines[6], *lines[8:]]).first_bad_seq == 7  # swapped
    truncated = _verify_lines(lines[:-2], cp)
    assert (truncated.ok, truncated.first_bad_seq) == (False, len(lines) - 1)

    rows = _rechain(list(audit.rows_from_export(lines)), edit_seq=2)
    forged = [audit.canonical_json(audit.row_to_record(r)) + "\n" for r in rows]
    assert _verify_lines(forged).ok
    assert _verify_lines(forged, cp).first_bad_seq == cp.seq


def test_a_malformed_export_line_names_the_line(wf):
    _populate(wf, 1)
    lines = _export(wf)
    lines[2] = "{not json\n"
    with pytest.raises(audit.BadExportLine, match="第 3 行"):
        _verify_lines(lines)
