"""Accounts (DESIGN §8): who signs in, with which role, over which unit — scoped to the unit's
subtree; passwords (Argon2id, never stored or logged as typed), sign-in throttling, API tokens,
web sessions; every change an audit event with no secret in it; and the migration that brings
an existing database to accounts (0006 → 0007)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from tests.conftest import CLERKS, drawn_task, inspector_row, load_directory
from workflow.core import accounts, audit, identity, schema, units
from workflow.core.clock import format_utc, parse_time
from workflow.core.config import DbSettings
from workflow.core.db import RawConnection, make_engine
from workflow.core.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from workflow.core.identity import Actor
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar

NOW = "2024-03-01T01:00:00.000000Z"
PASSWORD = "correct horse battery"
HERE = "198.51.100.7"
THERE = "203.0.113.9"
DOCS = Path(__file__).resolve().parents[3] / "docs"


def later(minutes: float = 0, hours: float = 0) -> str:
    return format_utc(parse_time(NOW, "UTC") + timedelta(minutes=minutes, hours=hours))


def add(
    raw: RawConnection,
    username: str,
    role: str = "clerk",
    unit: str = "130000",
    password: str | None = PASSWORD,
    *,
    by: Actor | None = None,
    inspector: str | None = None,
) -> accounts.Account:
    new = accounts.NewAccount(username, f"{username}姓名", role, unit, password, "", inspector)
    return accounts.add(raw, new, by=by, now=NOW)


def actor(raw: RawConnection, username: str) -> Actor:
    with raw.read() as cur:
        return accounts.actor(cur, raw.sql, username)


def events(raw: RawConnection, *kinds: str) -> list[dict]:  # type: ignore[type-arg]
    with raw.read() as cur:
        cur.execute(raw.sql("SELECT seq, actor, role, kind, payload FROM event ORDER BY seq"))
        rows = [
            {"seq": s, "actor": a, "role": r, "kind": k, "payload": json.loads(p)}
            for s, a, r, k, p in cur.fetchall()
        ]
    return [e for e in rows if not kinds or e["kind"] in kinds]


def every_text(raw: RawConnection, tables: tuple[str, ...]) -> str:
    """Every value of every row of ``tables``, as one text (to look for a secret in)."""
    out = []
    with raw.read() as cur:
        for table in tables:
            cur.execute(f"SELECT * FROM {table}")
            out += [repr(v) for row in cur.fetchall() for v in row]
    return "\n".join(out)


@pytest.fixture
def province(wf: Workflow) -> Workflow:
    """河北省人社厅 → 唐山市人社局 → 迁西县人社局 and 玉田县人社局."""
    units.edit(wf.raw, "000000", {"code": "130000", "name": "河北省人社厅", "kind": "省级"},
               actor="测试", now=NOW)  # fmt: skip
    units.add(wf.raw, units.NewUnit("130200", "唐山市人社局", "city", "130000"),
              actor="测试", now=NOW)  # fmt: skip
    for code, name in (("130227", "迁西县人社局"), ("130229", "玉田县人社局")):
        units.add(wf.raw, units.NewUnit(code, name, "county", "130200"), actor="测试", now=NOW)
    return wf


# ---------------------------------------------------------------------------------------------
# Adding, listing, reading: each account sees its unit's subtree only


def test_accounts_are_listed_and_read_within_the_unit_subtree(province: Workflow) -> None:
    raw = province.raw
    add(raw, "省管理员", "admin", "130000")
    add(raw, "市督办", "supervisor", "130200")
    add(raw, "迁西录入", "clerk", "130227")
    add(raw, "迁西管理员", "admin", "130227")
    add(raw, "玉田录入", "clerk", "130229")
    qianxi, city = actor(raw, "迁西管理员"), actor(raw, "市督办")
    with raw.read() as cur:
        everyone = [a.username for a in accounts.listing(cur, raw.sql)]
        mine = [a.username for a in accounts.listing(cur, raw.sql, qianxi)]
        citys = [a.username for a in accounts.listing(cur, raw.sql, city)]
        # The built-in system account is never listed (nor found by name).
        assert "system" not in everyone and len(everyone) == 5
        assert sorted(mine) == sorted(["迁西录入", "迁西管理员"])
        assert sorted(citys) == sorted(["市督办", "迁西录入", "迁西管理员", "玉田录入"])
        got = accounts.get(cur, raw.sql, "迁西录入", qianxi)
        assert (got.role, got.unit_code, got.unit_name) == ("clerk", "130227", "迁西县人社局")
        assert got.has_password and not got.disabled
        assert not {"password", "password_hash"} & set(got.as_json())
        # Another county's account does not exist for this county: the same answer as a name
        # nobody has, so that names outside the subtree cannot be probed.
        with pytest.raises(NotFound, match="账号 '玉田录入' 不存在"):
            accounts.get(cur, raw.sql, "玉田录入", qianxi)
        with pytest.raises(NotFound, match="账号 '省管理员' 不存在"):
            accounts.get(cur, raw.sql, "省管理员", qianxi)
        with pytest.raises(NotFound):
            accounts.get(cur, raw.sql, "system")
        assert accounts.get(cur, raw.sql, "玉田录入", city).unit_code == "130229"
        assert accounts.count(cur, raw.sql) == 5


def test_an_administrator_adds_accounts_only_inside_the_own_subtree(province: Workflow) -> None:
    raw = province.raw
    add(raw, "迁西管理员", "admin", "130227")
    qianxi = actor(raw, "迁西管理员")
    before = len(events(raw))
    with pytest.raises(NotFound, match="单位 '130229' 不存在"):
        add(raw, "玉田录入", "clerk", "130229", by=qianxi)
    with pytest.raises(NotFound, match="单位 '130200' 不存在"):
        add(raw, "市录入", "clerk", "130200", by=qianxi)
    assert len(events(raw)) == before
    assert add(raw, "迁西录入", "clerk", "130227", by=qianxi).unit_code == "130227"
    with pytest.raises(InvalidInput, match="账号 迁西录入 已存在"):
        add(raw, "迁西录入", "clerk", "130227", by=qianxi)


def test_usernames_roles_and_the_inspector_link_are_checked(province: Workflow) -> None:
    raw = province.raw
    for bad in ("a", "有 空格", "a/b", "x@y", "x" * 65):
        with pytest.raises(InvalidInput, match="账号名"):
            add(raw, bad)
    with pytest.raises(InvalidInput, match="系统保留"):
        add(raw, "system")
    with pytest.raises(InvalidInput, match="角色 'public' 无效"):
        add(raw, "张三", "public")
    # An inspector's account is linked to the person in the inspector directory, once.
    load_directory(province, inspectors=[inspector_row("J001")])
    with pytest.raises(InvalidInput, match="须关联执法检查人员名录"):
        add(raw, "张三", "inspector")
    with pytest.raises(NotFound, match="名录中没有 'J999'"):
        add(raw, "张三", "inspector", inspector="J999")
    linked = add(raw, "张三", "执法人员", inspector="人员J001")  # by name
    assert (linked.role, linked.inspector_cert) == ("inspector", "J001")
    assert actor(raw, "张三").inspector_cert == "J001"
    with pytest.raises(InvalidInput, match="J001 已关联账号 张三"):
        add(raw, "李四", "inspector", inspector="J001")


@pytest.mark.parametrize(
    ("word", "role"),
    [
        ("录入员", "clerk"),
        ("执法人员", "inspector"),
        ("督办", "supervisor"),
        ("审计", "auditor"),
        ("系统管理员", "admin"),
        ("管理员", "admin"),
        ("检查人员", "inspector"),
        ("Clerk", "clerk"),
        ("ａｕｄｉｔｏｒ", "auditor"),  # full-width, as an IME may type it
        (" supervisor ", "supervisor"),
    ],
)
def test_roles_are_read_as_people_write_them(word: str, role: str) -> None:
    assert accounts.parse_role(word) == role


@pytest.mark.parametrize("word", ["public", "公众", "system", "系统", "", "督办员x"])
def test_a_role_no_account_may_have_is_refused(word: str) -> None:
    with pytest.raises(InvalidInput, match="无效：应为 admin（系统管理员）、clerk（录入员）"):
        accounts.parse_role(word)


# ---------------------------------------------------------------------------------------------
# Passwords


def test_password_rules_say_what_is_wrong_without_repeating_the_password(wf: Workflow) -> None:
    raw = wf.raw
    for password, message in [
        ("short7!", "密码太短：至少 8 个字符"),
        ("x" * 257, "密码太长：至多 256 个字符"),
        ("zhangsan01", "密码不能与账号名相同"),
        (" ZhangSan01 ", "密码不能与账号名相同"),
        ("two\nlines!", "密码不能包含换行"),
    ]:
        with pytest.raises(InvalidInput, match=message) as e:
            add(raw, "zhangsan01", "clerk", "000000", password)
        assert password.strip() not in str(e.value)
        assert e.value.as_json().get("field") == "password"
    with raw.read() as cur:
        assert accounts.count(cur, raw.sql) == 0
    assert events(raw) == []  # nothing written by a refused account
    assert accounts.check_password("12345678", username="zhangsan01") == "12345678"


def test_only_an_argon2id_hash_is_stored_and_login_checks_it(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    add(raw, "李明", "clerk", "000000", None)  # no password yet
    with raw.read() as cur:
        cur.execute(raw.sql("SELECT username, password_hash FROM account ORDER BY id"))
        stored = dict(cur.fetchall())
    assert stored["system"] is None and stored["李明"] is None
    assert stored["王芳"].startswith("$argon2id$") and PASSWORD not in stored["王芳"]
    assert PASSWORD not in every_text(raw, ("account", "event", "login_failure"))
    who = accounts.login(raw, "王芳", PASSWORD, address=HERE, now=NOW)
    assert (who.username, who.role, who.unit_code) == ("王芳", "clerk", "000000")
    for name, password in [("王芳", "wrong password"), ("无此人", PASSWORD), ("李明", PASSWORD),
                           ("王芳", PASSWORD.upper()), ("system", "")]:  # fmt: skip
        with pytest.raises(Unauthenticated, match="账号或密码不正确") as e:
            accounts.login(raw, name, password, address=HERE, now=NOW)
        assert password not in str(e.value) or not password
    # Each failure is counted, the name as typed (no password), for throttling.
    with raw.read() as cur:
        cur.execute(raw.sql("SELECT username, address FROM login_failure ORDER BY id"))
        assert [r[0] for r in cur.fetchall()] == ["王芳", "无此人", "李明", "王芳", "system"]


def test_a_new_password_ends_every_session_and_the_old_one_stops_working(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    who = accounts.login(raw, "王芳", PASSWORD, address=HERE, now=NOW)
    one, _ = accounts.start_session(raw, who, now=NOW, hours=8)
    two, _ = accounts.start_session(raw, who, now=NOW, hours=8)
    with pytest.raises(InvalidInput, match="当前密码不正确"):
        accounts.set_password(raw, "王芳", "new password 1", by=who, now=later(1), current="nope")
    with pytest.raises(InvalidInput, match="密码太短"):
        accounts.set_password(raw, "王芳", "short", by=who, now=later(1), current=PASSWORD)
    accounts.set_password(raw, "王芳", "new password 1", by=who, now=later(1), current=PASSWORD)
    for sid in (one, two):
        with raw.read() as cur, pytest.raises(Unauthenticated, match="请重新登录"):
            accounts.session_actor(cur, raw.sql, sid, now=later(2))
    with pytest.raises(Unauthenticated):
        accounts.login(raw, "王芳", PASSWORD, address=HERE, now=later(2))
    assert accounts.login(raw, "王芳", "new password 1", address=HERE, now=later(2)).id == who.id


# ---------------------------------------------------------------------------------------------
# Throttling


def test_five_failures_for_one_name_lock_it_for_fifteen_minutes(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    add(raw, "李明", "clerk", "000000")
    for i in range(5):
        with pytest.raises(Unauthenticated):
            accounts.login(raw, "王芳", f"guess {i}", address=HERE, now=later(i))
    # Locked: the right password too, from any address, and the message says to wait.
    for address in (HERE, THERE):
        with pytest.raises(TooManyAttempts, match="请 15 分钟后再试"):
            accounts.login(raw, "王芳", PASSWORD, address=address, now=later(5))
    # Another name from the same address is not locked by it.
    assert accounts.login(raw, "李明", PASSWORD, address=HERE, now=later(5)).username == "李明"
    # The window counts from each failure: 15 minutes after the first, four remain.
    assert accounts.login(raw, "王芳", PASSWORD, address=HERE, now=later(15.5)).username == "王芳"
    # A refused attempt while locked is not counted as a failure.
    with raw.read() as cur:
        cur.execute(raw.sql("SELECT COUNT(*) FROM login_failure"))
        assert cur.fetchone()[0] == 5


def test_twenty_failures_from_one_address_lock_the_address(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    add(raw, "李明", "clerk", "000000")
    for i in range(5):
        with pytest.raises(Unauthenticated):
            accounts.login(raw, "王芳", f"guess {i}", address=HERE, now=later(i / 10))
    # Other names from the same address still sign in until the address has 20 failures.
    for i in range(14):
        with pytest.raises(Unauthenticated):
            accounts.login(raw, f"u{i}", PASSWORD, address=HERE, now=later(1))
    assert accounts.login(raw, "李明", PASSWORD, address=HERE, now=later(1)).username == "李明"
    with pytest.raises(Unauthenticated):
        accounts.login(raw, "u14", PASSWORD, address=HERE, now=later(1))  # the 20th
    with pytest.raises(TooManyAttempts):
        accounts.login(raw, "李明", PASSWORD, address=HERE, now=later(2))
    # From another address the name is not locked; after the window, neither is the address.
    assert accounts.login(raw, "李明", PASSWORD, address=THERE, now=later(2)).username == "李明"
    assert accounts.login(raw, "李明", PASSWORD, address=HERE, now=later(17)).username == "李明"
    assert accounts.login(raw, "王芳", PASSWORD, address=HERE, now=later(17)).username == "王芳"


def test_the_limits_are_settings(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    strict = accounts.Throttle(per_account=2, per_address=3, window_minutes=1)
    for i in range(2):
        with pytest.raises(Unauthenticated):
            accounts.login(raw, "王芳", "x", address=HERE, now=later(i / 10), throttle=strict)
    with pytest.raises(TooManyAttempts, match="请 1 分钟后再试"):
        accounts.login(raw, "王芳", PASSWORD, address=THERE, now=later(0.5), throttle=strict)
    who = accounts.login(raw, "王芳", PASSWORD, address=HERE, now=later(1.5), throttle=strict)
    assert who.username == "王芳"


# ---------------------------------------------------------------------------------------------
# Disabled accounts


def test_a_disabled_account_is_refused_everywhere_and_enabled_again(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "管理员", "admin", "000000")
    add(raw, "王芳", "clerk", "000000")
    admin = actor(raw, "管理员")
    who = accounts.login(raw, "王芳", PASSWORD, address=HERE, now=NOW)
    sid, _ = accounts.start_session(raw, who, now=NOW, hours=8)
    token, _ = accounts.create_token(raw, "王芳", "脚本", by=who, now=NOW)
    with pytest.raises(InvalidInput, match="不能停用自己的账号"):
        accounts.set_disabled(raw, "管理员", True, by=admin, now=NOW)
    off = accounts.set_disabled(raw, "王芳", True, by=admin, now=later(1), reason="调离")
    assert off.disabled
    with raw.read() as cur:
        with pytest.raises(Unauthenticated, match="账号 王芳 已停用"):
            accounts.actor(cur, raw.sql, "王芳")
        with pytest.raises(Unauthenticated, match="API 令牌无效或已吊销"):  # revoked
            accounts.token_actor(cur, raw.sql, token)
        with pytest.raises(Unauthenticated):  # disabling ended the session
            accounts.session_actor(cur, raw.sql, sid, now=later(2))
    with pytest.raises(Unauthenticated, match="或账号已停用"):
        accounts.login(raw, "王芳", PASSWORD, address=HERE, now=later(2))
    with pytest.raises(InvalidInput, match="已停用"):
        accounts.create_token(raw, "王芳", "再来", by=admin, now=later(2))
    # Disabling twice changes nothing and logs nothing more.
    before = len(events(raw))
    accounts.set_disabled(raw, "王芳", True, by=admin, now=later(3))
    assert len(events(raw)) == before
    accounts.set_disabled(raw, "王芳", False, by=admin, now=later(4))
    assert actor(raw, "王芳").username == "王芳"
    with pytest.raises(Unauthenticated), raw.read() as cur:  # its tokens stay revoked
        accounts.token_actor(cur, raw.sql, token)
    with pytest.raises(Unauthenticated), raw.read() as cur:  # the ended session stays ended
        accounts.session_actor(cur, raw.sql, sid, now=later(5))
    changed = events(raw, "account_changed")
    assert [e["payload"]["after"] for e in changed] == [{"disabled": True}, {"disabled": False}]
    with pytest.raises(Unauthenticated, match="账号 '无此人' 不存在"):
        actor(raw, "无此人")


# ---------------------------------------------------------------------------------------------
# API tokens


def test_a_token_is_shown_once_works_until_revoked_and_is_kept_only_as_a_digest(
    wf: Workflow,
) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    who = actor(raw, "王芳")
    secret, token = accounts.create_token(raw, "王芳", "月报脚本", by=who, now=NOW)
    assert secret.startswith(token.as_json()["prefix"] + "_") and len(secret) > 50
    assert secret not in json.dumps(token.as_json()) and token.name == "月报脚本"
    assert secret not in every_text(raw, ("api_token", "event", "account"))
    with raw.read() as cur:
        assert accounts.token_actor(cur, raw.sql, secret).username == "王芳"
        assert accounts.token_actor(cur, raw.sql, f"  {secret}\n").username == "王芳"
        listed = accounts.tokens(cur, raw.sql, "王芳", by=who)
    assert [t.as_json()["prefix"] for t in listed] == [token.as_json()["prefix"]]
    # Malformed, or well-formed with the wrong secret: refused alike.
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    for bad in ("", "ssj_", "Bearer " + secret, secret[:20], "ssj_zzzzzzzzzzzz_" + "a" * 40,
                forged, secret.upper()):  # fmt: skip
        with raw.read() as cur, pytest.raises(Unauthenticated, match="API 令牌无效"):
            accounts.token_actor(cur, raw.sql, bad)
    revoked = accounts.revoke_token(raw, token.as_json()["prefix"], by=who, now=later(1))
    assert revoked.revoked_at == later(1)
    with raw.read() as cur, pytest.raises(Unauthenticated, match="无效或已吊销"):
        accounts.token_actor(cur, raw.sql, secret)
    # Revoking again changes nothing; by id works too; an unknown prefix is not found.
    accounts.revoke_token(raw, str(token.id), by=who, now=later(2))
    assert len(events(raw, "token_revoked")) == 1
    with pytest.raises(NotFound, match="令牌 'ssj_000000000000' 不存在"):
        accounts.revoke_token(raw, "ssj_000000000000", by=who, now=later(2))


def test_tokens_of_others_are_managed_by_administrators_of_their_subtree(
    province: Workflow,
) -> None:
    raw = province.raw
    add(raw, "迁西管理员", "admin", "130227")
    add(raw, "迁西录入", "clerk", "130227")
    add(raw, "玉田录入", "clerk", "130229")
    admin, clerk = actor(raw, "迁西管理员"), actor(raw, "迁西录入")
    secret, token = accounts.create_token(raw, "迁西录入", "脚本", by=clerk, now=NOW)
    # A clerk manages only the own tokens.
    with pytest.raises(Forbidden, match="迁西录入（录入员）无权管理账号"):
        accounts.create_token(raw, "玉田录入", "x", by=clerk, now=NOW)
    other, other_token = accounts.create_token(raw, "玉田录入", "玉田的", by=None, now=NOW)
    with pytest.raises(Forbidden):
        accounts.revoke_token(raw, other_token.as_json()["prefix"], by=clerk, now=NOW)
    # An administrator: the tokens of the subtree's accounts, not another county's.
    with pytest.raises(NotFound, match="账号 '玉田录入' 不存在"):
        accounts.revoke_token(raw, other_token.as_json()["prefix"], by=admin, now=NOW)
    with raw.read() as cur:
        assert len(accounts.tokens(cur, raw.sql, "迁西录入", by=admin)) == 1
        assert accounts.token_actor(cur, raw.sql, other).username == "玉田录入"
    accounts.revoke_token(raw, token.as_json()["prefix"], by=admin, now=later(1))
    with raw.read() as cur, pytest.raises(Unauthenticated):
        accounts.token_actor(cur, raw.sql, secret)


# ---------------------------------------------------------------------------------------------
# Web sessions


def test_sessions_start_rotate_end_and_expire(wf: Workflow) -> None:
    raw = wf.raw
    add(raw, "王芳", "clerk", "000000")
    who = accounts.login(raw, "王芳", PASSWORD, address=HERE, now=NOW)
    first, csrf = accounts.start_session(raw, who, now=NOW, hours=8)
    with raw.read() as cur:
        got, got_csrf = accounts.session_actor(cur, raw.sql, first, now=later(1))
    assert (got.username, got_csrf) == ("王芳", csrf) and len(first) >= 40
    # Only a digest is kept: the cookie's value is nowhere in the database.
    assert first not in every_text(raw, ("web_session",))
    # Signing in again rotates the id: the old cookie ends, the new one works.
    second, csrf2 = accounts.start_session(raw, who, now=later(2), hours=8, replaces=first)
    assert second != first and csrf2 != csrf
    with raw.read() as cur:
        with pytest.raises(Unauthenticated, match="登录已过期或已退出"):
            accounts.session_actor(cur, raw.sql, first, now=later(3))
        assert accounts.session_actor(cur, raw.sql, second, now=later(3))[0].id == who.id
        # Eight hours after it started it has expired.
        assert accounts.session_actor(cur, raw.sql, second, now=later(2 + 479))[0].id == who.id
        with pytest.raises(Unauthenticated):
            accounts.session_actor(cur, raw.sql, second, now=later(2, hours=8))
        with pytest.raises(Unauthenticated):
            accounts.session_actor(cur, raw.sql, "no such session", now=later(3))
    third, _ = accounts.start_session(raw, who, now=later(4), hours=8)
    accounts.end_session(raw, third, now=later(5))
    with raw.read() as cur, pytest.raises(Unauthenticated):
        accounts.session_actor(cur, raw.sql, third, now=later(6))


# ---------------------------------------------------------------------------------------------
# The log


def test_every_change_is_an_event_with_no_secret_in_it(wf: Workflow, tmp_path: Path) -> None:
    raw = wf.raw
    # The first administrator, from the server's console: no account bound yet.
    add(raw, "管理员", "admin", "000000")
    admin = actor(raw, "管理员")
    with identity.acting_as(admin):
        add(raw, "王芳", "clerk", "000000", by=admin)
        accounts.set_password(raw, "王芳", "another password", by=admin, now=later(1))
        accounts.set_disabled(raw, "王芳", True, by=admin, now=later(2), reason="调离")
        accounts.set_disabled(raw, "王芳", False, by=admin, now=later(3))
    fang = actor(raw, "王芳")
    with identity.acting_as(fang):
        accounts.set_password(raw, "王芳", "third password", by=fang, now=later(4),
                              current="another password")  # fmt: skip
        secret, token = accounts.create_token(raw, "王芳", "脚本", by=fang, now=later(5))
        accounts.revoke_token(raw, token.as_json()["prefix"], by=fang, now=later(6))
    logged = events(raw)
    assert [(e["kind"], e["actor"], e["role"]) for e in logged] == [
        ("account_added", "console", "admin"),
        ("account_added", "管理员", "admin"),
        ("account_changed", "管理员", "admin"),
        ("account_changed", "管理员", "admin"),
        ("account_changed", "管理员", "admin"),
        ("account_changed", "王芳", "clerk"),
        ("token_created", "王芳", "clerk"),
        ("token_revoked", "王芳", "clerk"),
    ]
    first, added = logged[0]["payload"], logged[1]["payload"]
    assert "by" not in first  # nobody was signed in
    assert added["after"] == {"username": "王芳", "name": "王芳姓名", "role": "clerk",
                              "unit": "000000", "inspector": None, "email": "",
                              "password": True}  # fmt: skip
    assert added["before"] is None and added["by"] == admin.record()
    assert [e["payload"]["after"] for e in logged[2:6]] == [
        {"password": "reset"}, {"disabled": True}, {"disabled": False}, {"password": "changed"},
    ]  # fmt: skip
    assert logged[6]["payload"]["token"] == token.as_json()["prefix"]
    assert logged[6]["payload"]["by"]["username"] == "王芳"
    # No password, hash or token secret anywhere in the log.
    with raw.read() as cur:
        cur.execute(raw.sql("SELECT password_hash FROM account WHERE username = ?"), ("王芳",))
        (stored,) = cur.fetchone()
    log = every_text(raw, ("event",))
    for secret_text in (PASSWORD, "another password", "third password", secret, stored,
                        "$argon2", secret.removeprefix(token.as_json()["prefix"] + "_")):  # fmt: skip
        assert secret_text not in log
    # The chain holds, and the standard-library checker accepts the log with ``by`` inside.
    assert audit.verify_db(raw).ok
    path = tmp_path / "log.jsonl"
    path.write_text("".join(audit.export_lines(audit.iter_db_rows(raw))), encoding="utf-8")
    r = subprocess.run([sys.executable, str(DOCS / "verify_audit.py"), str(path)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["ok"] is True, r


# ---------------------------------------------------------------------------------------------
# The migration 0006 → 0007


@pytest.fixture
def old_database(db_url: str) -> Iterator[tuple[object, Workflow]]:
    eng = make_engine(DbSettings(), db_url)
    cfg = schema._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO database_info (key, value) VALUES ('purpose', 'test')"))
    w = Workflow(eng, calendar=WorkCalendar(), clerks=CLERKS)
    yield eng, w
    w.close()
    eng.dispose()


def _tables(eng: object, names: list[str]) -> dict[str, list[tuple[object, ...]]]:
    with eng.connect() as c:  # type: ignore[attr-defined]
        return {
            t: [tuple(r) for r in c.execute(text(f"SELECT * FROM {t} ORDER BY 1")).fetchall()]
            for t in names
        }


def test_the_migration_keeps_the_data_and_adds_the_system_account(old_database) -> None:  # type: ignore[no-untyped-def]
    eng, w = old_database
    t, codes = drawn_task(w, 2)
    w.set_result(t, codes[0], "problem", actor="x")
    from sqlalchemy import inspect

    names = sorted(
        n
        for n in inspect(eng).get_table_names()
        if n != "alembic_version"  # type: ignore[arg-type]
    )
    assert "account" not in names and "event" in names and "unit" in names
    before = _tables(eng, names)
    assert len(before["event"]) > 5
    assert schema.upgrade(eng) == ("0006", schema.head_revision())  # type: ignore[arg-type]
    assert _tables(eng, names) == before  # every row of every table as it was
    with eng.connect() as c:  # type: ignore[attr-defined]
        assert c.execute(
            text("SELECT id, username, role, unit_id, password_hash, disabled_at FROM account")
        ).fetchall() == [(1, "system", "system", 1, None, None)]
        for table in ("api_token", "web_session", "login_failure"):
            assert c.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0
    raw = w.raw
    assert audit.verify_db(raw).ok and replay(raw).ok
    with raw.read() as cur:
        system = accounts.system_actor(cur, raw.sql)
        assert (system.id, system.role, system.unit_code) == (1, "system", "000000")
        assert accounts.count(cur, raw.sql) == 0  # the first person's account comes next
    with pytest.raises(Unauthenticated):  # it never signs in
        accounts.login(raw, "system", "", address=HERE, now=NOW)
    # Ids go on after the one the migration chose (PostgreSQL's serial).
    assert add(raw, "管理员", "admin", "000000").id == 2
