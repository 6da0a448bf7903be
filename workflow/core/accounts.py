"""Accounts (DESIGN §8): who signs in, with which role, over which unit — and the credentials
that prove it: passwords (Argon2id), API tokens for scripts, web sessions, and the throttling
of failed sign-ins.

An account is never deleted (the log names it): it is disabled, which also ends its sessions
and makes its tokens useless. Secrets are shown once and kept only as hashes: a password as
an Argon2id hash, a token and a session id as SHA-256 (random 256-bit values need no slow
hash). Every change to an account or a token is an audit event; the event never holds a hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workflow.core import audit, normalize, units
from workflow.core.clock import format_utc, parse_time
from workflow.core.db import RawConnection
from workflow.core.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from workflow.core.identity import SYSTEM_USERNAME, Actor
from workflow.core.permissions import ACCOUNT_ROLES, ROLES

PASSWORD_MIN = 8
PASSWORD_MAX = 256
_USERNAME = re.compile(r"[^\s/\\:@]{2,64}")
_HASHER = PasswordHasher()  # Argon2id with the library's current parameters
# A dummy hash checked when the account does not exist, so that an unknown name costs the same
# time as a wrong password (no account enumeration by timing).
_DUMMY = _HASHER.hash(secrets.token_hex(16))

_ROLE_WORDS = {
    **{r: r for r in ACCOUNT_ROLES},
    **{ROLES[r]: r for r in ACCOUNT_ROLES},
    "管理员": "admin",
    "经办人员": "clerk",
    "录入": "clerk",
    "执法检查人员": "inspector",
    "检查人员": "inspector",
    "监督人员": "supervisor",
    "督办人员": "supervisor",
    "审计人员": "auditor",
}

# An office (科室) is part of its bureau: its staff work on the bureau's plans and tasks, so an
# account of an office acts over the bureau's subtree (its scope path is the bureau's).
_ACTOR_SQL = (
    "SELECT a.id, a.username, a.name, a.role, u.id, u.code,"
    " CASE WHEN u.kind = 'office' THEN p.path ELSE u.path END, i.cert, a.disabled_at"
    " FROM account a JOIN unit u ON u.id = a.unit_id"
    " LEFT JOIN unit p ON p.id = u.parent_id"
    " LEFT JOIN inspector i ON i.id = a.inspector_id"
)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    name: str
    role: str
    unit_code: str
    unit_name: str
    inspector_cert: str | None
    inspector_name: str | None
    email: str
    disabled: bool
    has_password: bool
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "role": self.role,
            "role_label": ROLES.get(self.role, "系统"),
            "unit": self.unit_code,
            "unit_name": self.unit_name,
            "inspector": self.inspector_cert,
            "inspector_name": self.inspector_name,
            "email": self.email,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    username: str
    name: str
    lookup: str
    created_at: str
    revoked_at: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "prefix": f"ssj_{self.lookup}",
            "created_at": self.created_at,
            "revoked": self.revoked_at is not None,
            "revoked_at": self.revoked_at,
        }


# ---------------------------------------------------------------------------------------------
# Input


def parse_role(text: str) -> str:
    """A role as people write it: admin/clerk/…, or 录入员、执法人员、督办、审计 …"""
    word = normalize.nfkc(text).strip()
    role = _ROLE_WORDS.get(word.lower()) or _ROLE_WORDS.get(word)
    if role is None:
        listed = "、".join(f"{r}（{ROLES[r]}）" for r in ACCOUNT_ROLES)
        raise InvalidInput(f"角色 {text!r} 无效：应为 {listed}", field="role", value=text)
    return role


def parse_username(text: str) -> str:
    name = normalize.nfkc(text).strip()
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(
            f"账号名 {text!r} 无效：应为 2–64 个字符，不含空白和 / \\ : @",
            field="username",
            value=text,
        )
    if name == SYSTEM_USERNAME:
        raise InvalidInput(f"账号名 {name} 为系统保留", field="username", value=text)
    return name


def check_password(password: str, *, username: str = "") -> str:
    """A new password: long enough, not the account name, one line. Says what is wrong but
    never repeats the password."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"密码太短：至少 {PASSWORD_MIN} 个字符", field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"密码太长：至多 {PASSWORD_MAX} 个字符", field="password")
    if "\n" in password or "\r" in password:
        raise InvalidInput("密码不能包含换行", field="password")
    if username and password.strip().lower() == username.lower():
        raise InvalidInput("密码不能与账号名相同", field="password")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# ---------------------------------------------------------------------------------------------
# Reading


_ACCOUNT_SQL = (
    "SELECT a.id, a.username, a.name, a.role, u.code, u.name, i.cert, i.name, a.email,"
    " a.disabled_at, a.password_hash, a.created_at"
    " FROM account a JOIN unit u ON u.id = a.unit_id"
    " LEFT JOIN inspector i ON i.id = a.inspector_id"
)


def _account(row: Iterable[Any]) -> Account:
    aid, user, name, role, ucode, uname, cert, iname, email, dis, pw, created = row
    return Account(
        aid, user, name, role, ucode, uname, cert, iname, email, dis is not None, bool(pw), created
    )


def listing(cur: Any, sql: Any, within: Actor | None = None) -> list[Account]:
    """The accounts of ``within``'s unit subtree (all without one), by unit then name; the
    built-in system account is not listed."""
    where, args = "a.role <> 'system'", cast(tuple[Any, ...], ())
    if within is not None:
        clause, args = units.in_subtree("a.unit_id", _unit_of(within))
        where += f" AND {clause}"
    cur.execute(sql(f"{_ACCOUNT_SQL} WHERE {where} ORDER BY u.path, a.username"), args)
    return [_account(r) for r in cur.fetchall()]


def get(cur: Any, sql: Any, username: str, within: Actor | None = None) -> Account:
    """The account named ``username``; outside ``within``'s subtree it does not exist."""
    name = normalize.nfkc(username).strip()
    cur.execute(sql(f"{_ACCOUNT_SQL} WHERE a.username = ?"), (name,))
    row = cur.fetchone()
    if row is None or row[3] == "system":
        raise NotFound(f"账号 {username!r} 不存在", field="username", value=username)
    account = _account(row)
    if within is not None:
        unit = units.find(cur, sql, account.unit_code)
        if not within.sees_path(unit.path):
            raise NotFound(f"账号 {username!r} 不存在", field="username", value=username)
    return account


def actor(cur: Any, sql: Any, username: str) -> Actor:
    """The account named ``username`` as the rules see it: unknown or disabled accounts are
    refused (401). The CLI's ``--as`` and every credential end here."""
    name = normalize.nfkc(username).strip()
    cur.execute(sql(f"{_ACTOR_SQL} WHERE a.username = ?"), (name,))
    row = cur.fetchone()
    if row is None:
        raise Unauthenticated(f"账号 {username!r} 不存在", field="as", value=username)
    return _actor_of(row, username)


def _actor_of(row: Any, shown: str) -> Actor:
    aid, user, name, role, uid, ucode, upath, cert, disabled = row
    if disabled is not None:
        raise Unauthenticated(f"账号 {shown} 已停用", field="as", value=shown)
    return Actor(aid, user, name, role, uid, ucode, upath, cert)


def system_actor(cur: Any, sql: Any) -> Actor:
    cur.execute(sql(f"{_ACTOR_SQL} WHERE a.username = ?"), (SYSTEM_USERNAME,))
    return _actor_of(cur.fetchone(), SYSTEM_USERNAME)


def count(cur: Any, sql: Any) -> int:
    """How many people's accounts there are (the built-in system account not counted)."""
    cur.execute(sql("SELECT COUNT(*) FROM account WHERE role <> 'system'"))
    return int(cur.fetchone()[0])


def _unit_of(a: Actor) -> units.Unit:
    return units.Unit(a.unit_id, a.unit_code, "", "county", None, a.unit_path)


# ---------------------------------------------------------------------------------------------
# Changes (each one audit event, in the same transaction)


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    name: str
    role: str
    unit: str  # the unit's code
    password: str | None
    email: str = ""
    inspector: str | None = None  # certificate number (or unique name) in the directory


def add(raw: RawConnection, new: NewAccount, *, by: Actor | None, now: str) -> Account:
    """Create an account in ``by``'s subtree (``by`` None: the first administrator, or a
    script run with the database's own credentials)."""
    username = parse_username(new.username)
    role = parse_role(new.role)
    name = normalize.nfkc(new.name).strip() or username
    if len(name) > 50:
        raise InvalidInput("姓名太长：至多 50 个字符", field="name", value=new.name)
    email = normalize.nfkc(new.email).strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(f"电子邮箱 {new.email!r} 无效", field="email", value=new.email)
    pw_hash = None
    if new.password is not None:
        pw_hash = hash_password(check_password(new.password, username=username))
    with raw.write() as cur:
        sql = raw.sql
        cur.execute(sql("SELECT 1 FROM account WHERE username = ?"), (username,))
        if cur.fetchone():
            raise InvalidInput(f"账号 {username} 已存在", field="username", value=username)
        unit = units.find(cur, sql, new.unit)
        _require_within(by, unit)
        inspector_id, cert = _inspector(cur, sql, new.inspector, role, unit)
        cur.execute(
            sql(
                "INSERT INTO account (username, name, role, unit_id, inspector_id, password_hash,"
                " email, password_changed_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                username,
                name,
                role,
                unit.id,
                inspector_id,
                pw_hash,
                email,
                now if pw_hash else None,
                now,
                now,
            ),
        )
        after = {
            "username": username,
            "name": name,
            "role": role,
            "unit": unit.code,
            "inspector": cert,
            "email": email,
            "password": pw_hash is not None,
        }
        _log(
            cur,
            sql,
            "account_added",
            {"username": username, "before": None, "after": after},
            now=now,
            by=by,
        )
        return get(cur, sql, username)


def _inspector(
    cur: Any, sql: Any, text: str | None, role: str, unit: units.Unit
) -> tuple[int | None, str | None]:
    if not text or not text.strip():
        if role == "inspector":
            raise InvalidInput(
                "执法人员账号须关联执法检查人员名录中的人员（执法证号）", needs="inspector"
            )
        return None, None
    word = normalize.nfkc(text).strip()
    cur.execute(
        sql(
            "SELECT i.id, i.cert, i.name, u.path FROM inspector i JOIN unit u ON u.id = i.unit_id"
            " WHERE i.cert = ? OR i.name = ?"
        ),
        (word, word),
    )
    rows = cur.fetchall()
    if not rows:
        raise NotFound(
            f"执法检查人员名录中没有 {text!r}（执法证号或姓名）", field="inspector", value=text
        )
    if len(rows) > 1:
        certs = "、".join(r[1] for r in rows)
        raise InvalidInput(
            f"名录中有 {len(rows)} 名 {word}（执法证号 {certs}）：请用执法证号",
            field="inspector",
            value=text,
        )
    iid, cert, _, path = rows[0]
    if not (path.startswith(unit.path) or unit.path.startswith(path)):
        raise InvalidInput(
            f"执法检查人员 {cert} 不属于单位 {unit.label} 及其上下级",
            field="inspector",
            value=text,
        )
    cur.execute(sql("SELECT username FROM account WHERE inspector_id = ?"), (iid,))
    taken = cur.fetchone()
    if taken:
        raise InvalidInput(
            f"执法检查人员 {cert} 已关联账号 {taken[0]}", field="inspector", value=text
        )
    return iid, cert


def _require_within(by: Actor | None, unit: units.Unit) -> None:
    if by is not None and not by.sees_path(unit.path):
        raise NotFound(f"单位 {unit.code!r} 不存在", field="unit", value=unit.code)


def set_disabled(
    raw: RawConnection,
    username: str,
    disabled: bool,
    *,
    by: Actor | None,
    now: str,
    reason: str | None = None,
) -> Account:
    """Disable (or enable again) an account; disabling ends its sessions and revokes its
    tokens at once."""
    with raw.write() as cur:
        sql = raw.sql
        before = get(cur, sql, username, by)
        if by is not None and before.username == by.username and disabled:
            raise InvalidInput("不能停用自己的账号", field="username", value=username)
        if before.disabled == disabled:
            return before
        cur.execute(
            sql("UPDATE account SET disabled_at = ?, updated_at = ? WHERE id = ?"),
            (now if disabled else None, now, before.id),
        )
        if disabled:
            # Ends its sessions and revokes its tokens: enabling the account again gives it
            # back its password, not the credentials that were out while it was disabled.
            _end_sessions(cur, sql, before.id, now)
            cur.execute(
                sql(
                    "UPDATE api_token SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL"
                ),
                (now, before.id),
            )
        _log(
            cur,
            sql,
            "account_changed",
            {
                "username": before.username,
                "before": {"disabled": before.disabled},
                "after": {"disabled": disabled},
            },
            now=now,
            by=by,
            reason=reason,
        )
        return get(cur, sql, username)


def set_password(
    raw: RawConnection,
    username: str,
    password: str,
    *,
    by: Actor | None,
    now: str,
    current: str | None = None,
) -> None:
    """A new password (an administrator's reset, or the person's own change with ``current``);
    every session of the account ends."""
    with raw.write() as cur:
        sql = raw.sql
        account = get(cur, sql, username, by if current is None else None)
        check_password(password, username=account.username)
        if current is not None:
            cur.execute(sql("SELECT password_hash FROM account WHERE id = ?"), (account.id,))
            if not _matches(cur.fetchone()[0], current):
                raise InvalidInput("当前密码不正确", field="current_password")
        cur.execute(
            sql(
                "UPDATE account SET password_hash = ?, password_changed_at = ?, updated_at = ?"
                " WHERE id = ?"
            ),
            (hash_password(password), now, now, account.id),
        )
        _end_sessions(cur, sql, account.id, now)
        what = "changed" if current is not None else "reset"
        _log(
            cur,
            sql,
            "account_changed",
            {"username": account.username, "before": None, "after": {"password": what}},
            now=now,
            by=by,
        )


def _matches(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _log(
    cur: Any,
    sql: Any,
    kind: str,
    payload: dict[str, Any],
    *,
    now: str,
    by: Actor | None,
    reason: str | None = None,
) -> None:
    """One account event, named by the bound account, else by ``by`` (a caller that passes
    the account without binding it), else "console" (the first administrator, created from
    the server's console before any account exists)."""
    from workflow.core import identity

    head = audit.read_head(cur, sql)
    with identity.acting_as(identity.current() or by):
        audit.append(
            cur,
            sql,
            head,
            at=head.stamp(now),
            actor="console",
            role="admin",
            task_id=None,
            kind=kind,
            reason=reason,
            payload=payload,
        )


# ---------------------------------------------------------------------------------------------
# Signing in: passwords with throttling


@dataclass(frozen=True, slots=True)
class Throttle:
    per_account: int = 5  # failures of one account name …
    per_address: int = 20  # … or from one address …
    window_minutes: int = 15  # … within this many minutes lock that name or address out


def login(
    raw: RawConnection,
    username: str,
    password: str,
    *,
    address: str,
    now: str,
    throttle: Throttle | None = None,
) -> Actor:
    """The account if the password is right. Failures are counted per account name and per
    address; past the limits every attempt is refused (429) until the window has passed, a
    right password included. The message never says whether the name exists."""
    limits = throttle or Throttle()
    name = normalize.nfkc(username).strip()[:64]
    address = address[:64]
    since = format_utc(parse_time(now, "UTC") - timedelta(minutes=limits.window_minutes))
    with raw.read() as cur:
        sql = raw.sql
        cur.execute(
            sql("SELECT COUNT(*) FROM login_failure WHERE username = ? AND at >= ?"), (name, since)
        )
        by_name = cur.fetchone()[0]
        cur.execute(
            sql("SELECT COUNT(*) FROM login_failure WHERE address = ? AND at >= ?"),
            (address, since),
        )
        by_address = cur.fetchone()[0]
    if by_name >= limits.per_account or by_address >= limits.per_address:
        raise TooManyAttempts(
            f"登录失败次数过多，请 {limits.window_minutes} 分钟后再试", field="username"
        )
    with raw.write() as cur:
        sql = raw.sql
        cur.execute(sql(f"{_ACTOR_SQL} WHERE a.username = ?"), (name,))
        row = cur.fetchone()
        stored = None
        if row is not None:
            cur.execute(sql("SELECT password_hash FROM account WHERE id = ?"), (row[0],))
            stored = cur.fetchone()[0]
        ok = _matches(stored, password) and row is not None and row[8] is None
        if ok:
            return Actor(*row[:8])
        cur.execute(
            sql("INSERT INTO login_failure (username, address, at) VALUES (?, ?, ?)"),
            (name, address, now),
        )
    raise Unauthenticated("账号或密码不正确，或账号已停用", field="password")


# ---------------------------------------------------------------------------------------------
# API tokens


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    raw: RawConnection, username: str, name: str, *, by: Actor | None, now: str
) -> tuple[str, Token]:
    """A new token for ``username`` (its own, or, for an administrator, an account of the
    subtree): the text is returned once and kept only as its SHA-256."""
    label = normalize.nfkc(name).strip() or "API"
    if len(label) > 100:
        raise InvalidInput("令牌名称太长：至多 100 个字符", field="name", value=name)
    lookup = secrets.token_hex(6)
    text = f"ssj_{lookup}_{secrets.token_urlsafe(32)}"
    with raw.write() as cur:
        sql = raw.sql
        account = _own_or_managed(cur, sql, username, by)
        if account.disabled:
            raise InvalidInput(f"账号 {account.username} 已停用", field="username")
        cur.execute(
            sql(
                "INSERT INTO api_token (account_id, name, lookup, digest, created_at)"
                " VALUES (?, ?, ?, ?, ?)"
            ),
            (account.id, label, lookup, _digest(text), now),
        )
        _log(
            cur,
            sql,
            "token_created",
            {"username": account.username, "token": f"ssj_{lookup}", "name": label},
            now=now,
            by=by,
        )
        token = _tokens(cur, sql, "t.lookup = ?", (lookup,))[0]
    return text, token


def _own_or_managed(cur: Any, sql: Any, username: str, by: Actor | None) -> Account:
    from workflow.core import permissions

    own = by is not None and normalize.nfkc(username).strip() == by.username
    if by is None or own:
        return get(cur, sql, username)
    permissions.require(by, "user.manage")
    return get(cur, sql, username, by)


def _tokens(cur: Any, sql: Any, where: str, args: tuple[Any, ...]) -> list[Token]:
    cur.execute(
        sql(
            "SELECT t.id, a.username, t.name, t.lookup, t.created_at, t.revoked_at"
            f" FROM api_token t JOIN account a ON a.id = t.account_id WHERE {where}"
            " ORDER BY t.id"
        ),
        args,
    )
    return [Token(*r) for r in cur.fetchall()]


def tokens(cur: Any, sql: Any, username: str, *, by: Actor | None) -> list[Token]:
    account = _own_or_managed(cur, sql, username, by)
    return _tokens(cur, sql, "t.account_id = ?", (account.id,))


def revoke_token(raw: RawConnection, prefix: str, *, by: Actor | None, now: str) -> Token:
    """Revoke a token by its prefix (``ssj_…`` as listed) or id."""
    text = normalize.nfkc(prefix).strip()
    lookup = text.removeprefix("ssj_").split("_")[0]
    with raw.write() as cur:
        sql = raw.sql
        found = _tokens(cur, sql, "t.lookup = ? OR CAST(t.id AS VARCHAR(20)) = ?", (lookup, text))
        if not found:
            raise NotFound(f"令牌 {prefix!r} 不存在", field="token", value=prefix)
        token = found[0]
        _own_or_managed(cur, sql, token.username, by)
        if token.revoked_at is None:
            cur.execute(sql("UPDATE api_token SET revoked_at = ? WHERE id = ?"), (now, token.id))
            _log(
                cur,
                sql,
                "token_revoked",
                {"username": token.username, "token": f"ssj_{token.lookup}"},
                now=now,
                by=by,
            )
        return _tokens(cur, sql, "t.id = ?", (token.id,))[0]


def token_actor(cur: Any, sql: Any, text: str) -> Actor:
    """The account a bearer token stands for; unknown, revoked and disabled are refused."""
    m = re.fullmatch(r"ssj_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}", text.strip())
    if m is None:
        raise Unauthenticated("API 令牌无效", field="authorization")
    cur.execute(
        sql(
            f"{_ACTOR_SQL} JOIN api_token t ON t.account_id = a.id"
            " WHERE t.lookup = ? AND t.digest = ? AND t.revoked_at IS NULL"
        ),
        (m.group(1), _digest(text.strip())),
    )
    row = cur.fetchone()
    if row is None:
        raise Unauthenticated("API 令牌无效或已吊销", field="authorization")
    return _actor_of(row, row[1])


# ---------------------------------------------------------------------------------------------
# Web sessions


def start_session(
    raw: RawConnection, who: Actor, *, now: str, hours: int, replaces: str | None = None
) -> tuple[str, str]:
    """A new session for ``who`` (the id for the cookie, the CSRF token for the forms); the
    session it ``replaces`` (the cookie before login) ends: ids rotate at every login."""
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = format_utc(parse_time(now, "UTC") + timedelta(hours=hours))
    with raw.write() as cur:
        sql = raw.sql
        if replaces:
            cur.execute(
                sql("UPDATE web_session SET ended_at = ? WHERE digest = ?"),
                (now, _digest(replaces)),
            )
        cur.execute(
            sql(
                "INSERT INTO web_session (digest, account_id, csrf, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)"
            ),
            (_digest(sid), who.id, csrf, now, expires),
        )
    return sid, csrf


def session_actor(cur: Any, sql: Any, sid: str, *, now: str) -> tuple[Actor, str]:
    """The account of a live session and its CSRF token; ended, expired, unknown sessions and
    disabled accounts are refused."""
    cur.execute(
        sql(
            f"{_ACTOR_SQL} JOIN web_session s ON s.account_id = a.id"
            " WHERE s.digest = ? AND s.ended_at IS NULL AND s.expires_at > ?"
        ),
        (_digest(sid), now),
    )
    row = cur.fetchone()
    if row is None:
        raise Unauthenticated("登录已过期或已退出，请重新登录")
    who = _actor_of(row, row[1])
    cur.execute(sql("SELECT csrf FROM web_session WHERE digest = ?"), (_digest(sid),))
    return who, cur.fetchone()[0]


def end_session(raw: RawConnection, sid: str, *, now: str) -> None:
    with raw.write() as cur:
        cur.execute(
            raw.sql("UPDATE web_session SET ended_at = ? WHERE digest = ? AND ended_at IS NULL"),
            (now, _digest(sid)),
        )


def _end_sessions(cur: Any, sql: Any, account_id: int, now: str) -> None:
    cur.execute(
        sql("UPDATE web_session SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL"),
        (now, account_id),
    )
