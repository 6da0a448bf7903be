"""The outbox and its delivery, against a real SMTP server (aiosmtpd) and a real Maildir."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta

import pytest

from notifications import (
    DeliveryPolicy,
    MaildirTransport,
    Message,
    SmtpConfig,
    SmtpTransport,
    deliver,
    enqueue,
)
from notifications import outbox as ob
from tests.conftest import SmtpServer, free_port
from workflow.core.clock import format_utc
from workflow.core.db import RawConnection

NOW = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(
    sender="双随机系统 <ssj@bureau.test>", max_attempts=3, retry_base_seconds=60
)


def _ctx(n: int) -> dict[str, object]:
    return {
        "kind": "overdue",
        "step": "overdue",
        "step_label": "责任人",
        "subject_line": f"计划 2024001 任务 00{n}号《测试》",
        "task": f"计划 2024001 任务 00{n}号《测试》",
        "what": "公示检查结果",
        "detail": "",
        "office": "劳动保障监察大队",
        "responsible": "人员J001",
        "due": "2024-09-30",
        "due_weekday": "星期一",
        "basis": "检查结束后 20 个工作日内公示（来源文件 001、003、004）",
        "todo": "用 ssj result publish 登记公示",
        "working_days_left": None,
        "late_working_days": 3,
        "as_of": "2024-10-08 09:00",
        "event_seq": 40 + n,
    }


def _enqueue(
    raw: RawConnection, n: int, to: str = "j001@bureau.test", digest: bool = False
) -> None:
    cur = raw.dbapi.cursor()
    if not raw.postgres:
        cur.execute("BEGIN")
    enqueue(
        cur,
        raw,
        [Message(f"k{i}|{to}", to, "人员J001", "deadline", _ctx(i), digest) for i in range(n)],
        "2024-10-08T00:00:00.000000Z",
    )
    raw.dbapi.commit()
    cur.close()


@pytest.fixture
def raw(engine):  # type: ignore[no-untyped-def]
    r = RawConnection(engine)
    yield r
    r.close()


def _smtp(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpConfig(host="127.0.0.1", port=port, timeout=5))


def test_messages_arrive_with_recipient_subject_and_both_bodies(
    raw, smtp_server: SmtpServer
) -> None:
    _enqueue(raw, 3)
    result = deliver(raw, _smtp(smtp_server.port), POLICY, NOW)
    assert (result.mails, result.messages, result.failed) == (3, 3, 0)
    msgs = smtp_server.sink.messages()
    assert [e.rcpt_tos for e in smtp_server.sink.envelopes] == [["j001@bureau.test"]] * 3
    m = msgs[0]
    assert (
        m["Subject"] == "【逾期】计划 2024001 任务 000号《测试》：公示检查结果，已逾期 3 个工作日"
    )
    assert "j001@bureau.test" in m["To"]
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    for body in (text, html):
        assert "2024-09-30" in body and "用 ssj result publish 登记公示" in body
    assert "已逾期 3 个工作日" in text
    assert len({x["Message-ID"] for x in msgs}) == 3
    assert ob.counts(raw)["sent"] == 3
    # Nothing left: a second run sends nothing.
    assert deliver(raw, _smtp(smtp_server.port), POLICY, NOW).mails == 0
    assert len(smtp_server.sink.envelopes) == 3


def test_server_down_then_up_every_message_delivered_exactly_once(raw) -> None:
    server = SmtpServer(free_port())
    _enqueue(raw, 5)
    down = deliver(raw, _smtp(server.port), POLICY, NOW)
    assert down.mails == 0 and down.error and "无法连接" in down.error
    assert down.failed == 5
    rows = ob.listing(raw)
    # One message was tried (one attempt); the others wait as long without one.
    assert sorted(r["attempts"] for r in rows) == [0, 0, 0, 0, 1]
    assert {r["status"] for r in rows} == {"pending"}
    # Before the back-off has passed nothing is tried, even with the server up.
    server.start()
    try:
        assert deliver(raw, _smtp(server.port), POLICY, NOW + timedelta(seconds=30)).mails == 0
        later = NOW + timedelta(seconds=61)
        up = deliver(raw, _smtp(server.port), POLICY, later)
        assert up.mails == 5 and up.error is None
        again = deliver(raw, _smtp(server.port), POLICY, later + timedelta(hours=1))
        assert again.mails == 0
        subjects = [m["Subject"] for m in server.sink.messages()]
        assert len(subjects) == 5 and len(set(subjects)) == 5
    finally:
        server.stop()


def test_a_refused_message_goes_dead_after_max_attempts_and_can_be_retried(
    raw, smtp_server: SmtpServer
) -> None:
    smtp_server.sink.refuse.add("gone@bureau.test")
    _enqueue(raw, 1, to="gone@bureau.test")
    _enqueue(raw, 1, to="ok@bureau.test")
    at = NOW
    for _ in range(POLICY.max_attempts):
        deliver(raw, _smtp(smtp_server.port), POLICY, at)
        at += timedelta(hours=2)
    dead = ob.listing(raw, "dead")
    assert [r["recipient"] for r in dead] == ["gone@bureau.test"]
    assert dead[0]["attempts"] == POLICY.max_attempts and "550" in dead[0]["last_error"]
    assert [e.rcpt_tos for e in smtp_server.sink.envelopes] == [["ok@bureau.test"]]
    # The supervisor fixes the address book (here: the server accepts again) and retries.
    smtp_server.sink.refuse.clear()
    assert ob.retry(raw, dead[0]["id"], format_utc(at)) == "dead"
    assert deliver(raw, _smtp(smtp_server.port), POLICY, at).mails == 1
    assert ob.counts(raw) == {"pending": 0, "sending": 0, "sent": 2, "dead": 0}


def test_enqueueing_the_same_key_twice_keeps_one_message(raw) -> None:
    _enqueue(raw, 2)
    _enqueue(raw, 2)
    assert ob.counts(raw)["pending"] == 2


def test_a_lapsed_lease_is_taken_over_and_a_live_one_is_not(raw, smtp_server: SmtpServer) -> None:
    _enqueue(raw, 1)
    claimed = ob.claim(raw, "2024-10-08T01:00:00.000000Z", "2024-10-08T01:05:00.000000Z", 10)
    assert len(claimed) == 1  # a process took it, then died before sending
    assert deliver(raw, _smtp(smtp_server.port), POLICY, NOW + timedelta(minutes=1)).mails == 0
    assert deliver(raw, _smtp(smtp_server.port), POLICY, NOW + timedelta(minutes=6)).mails == 1


def test_digest_bundles_one_recipients_items_into_one_mail(raw, smtp_server: SmtpServer) -> None:
    _enqueue(raw, 3, digest=True)
    _enqueue(raw, 1, to="other@bureau.test", digest=True)
    result = deliver(raw, _smtp(smtp_server.port), POLICY, NOW)
    assert (result.mails, result.messages) == (2, 4)
    first = smtp_server.sink.messages()[0]
    assert first["Subject"].startswith("【每日汇总】3 项待办，其中 3 项已逾期")
    body = first.get_body(("plain",)).get_content()
    assert body.count("公示检查结果") == 3


def test_maildir_transport_writes_real_messages(raw, tmp_path) -> None:
    _enqueue(raw, 2)
    result = deliver(raw, MaildirTransport(tmp_path / "mail"), POLICY, NOW)
    assert result.mails == 2
    from email import message_from_bytes, policy

    box = mailbox.Maildir(tmp_path / "mail", create=False)
    subjects = sorted(
        str(message_from_bytes(box.get_bytes(k), policy=policy.default)["Subject"])
        for k in box.iterkeys()
    )
    assert len(subjects) == 2 and all("公示检查结果" in s for s in subjects)


def test_maildir_transport_creates_missing_parent_directories(raw, tmp_path) -> None:
    _enqueue(raw, 1)
    where = tmp_path / "fresh-clone" / "data" / "mail"  # none of it there yet
    assert deliver(raw, MaildirTransport(where), POLICY, NOW).mails == 1
    assert len(list(mailbox.Maildir(where, create=False).iterkeys())) == 1


def test_maildir_transport_says_which_directory_it_cannot_open(raw, tmp_path) -> None:
    _enqueue(raw, 1)
    (tmp_path / "data").write_text("a file, not a directory")
    result = deliver(raw, MaildirTransport(tmp_path / "data" / "mail"), POLICY, NOW)
    assert result.mails == 0 and result.error is not None
    assert f"无法打开邮件目录 {tmp_path / 'data' / 'mail'}" in result.error


def test_pending_targets_are_listed_in_both_bodies_and_the_digest() -> None:
    from notifications.render import render

    ctx = {
        **_ctx(1),
        "what": "完成检查并录入全部检查结果",
        "pending": [{"code": f"91130227MA0000000{i}", "name": f"对象{i}"} for i in range(2)],
        "pending_count": 3,
    }
    _, text, html = render("deadline", {**ctx, "recipient_name": "王"})
    assert "尚未录入检查结果的检查对象（3 户）" in text
    assert "1. 对象0（91130227MA00000000）" in text and "2. 对象1（91130227MA00000001）" in text
    assert "另有 1 户未列出" in text and "另有 1 户未列出" in html
    assert "对象1（91130227MA00000001）" in html
    _, text, html = render("digest", {"recipient_name": "王", "day": "2024-10-08", "items": [ctx]})
    assert (
        "尚未录入结果（3 户）：对象0（91130227MA00000000）、对象1（91130227MA00000001） 等" in text
    )
    assert "尚未录入结果（3 户）" in html


def test_a_context_queued_before_pending_targets_existed_still_renders() -> None:
    from notifications.render import render

    subject, text, html = render(
        "deadline", {**_ctx(1), "recipient_name": "王"}
    )  # no "pending" key (an older outbox row)
    assert subject.startswith("【逾期】") and "尚未录入" not in text and "尚未录入" not in html
