"""The administrator's pages (issue #12 part 6), first half: units, accounts and API tokens.

The same functions and the same matrix as ``/api/v1/units``, ``/api/v1/users`` and
``/api/v1/tokens`` (web/_admin.py, web/_sessions.py): ``units.add``/``edit`` and
``unit_table.import_units`` within the account's subtree, ``accounts.add``/``set_disabled``/
``set_password``, ``accounts.create_token``/``tokens``/``revoke_token`` (an administrator may
manage the tokens of the accounts of its subtree; everyone their own). A form that the
application refuses is shown again with what was typed (never a password) and the error's
message, the one the API answers. Irreversible actions — disabling an account, revoking a
token — ask for confirmation on a page of their own (``confirm_page``), so they work without
JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from web._auth import acting
from web._deps import ContextDep
from web._files import download, uploaded
from web._pages import PageUser, check_csrf
from web._problems import status_of
from web._templates import render, safe_next
from workflow.app import AppContext
from workflow.core import accounts, permissions, units
from workflow.core.clock import format_utc
from workflow.core.errors import InvalidInput, NotFound, SsjError
from workflow.core.identity import Actor
from workflow.sampling import unit_table

__all__ = ["FormError", "confirm_page", "router"]

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=200)]
Short = Annotated[str, Form(max_length=256)]
Long = Annotated[str, Form(max_length=2000)]
Flag = Annotated[str, Form(max_length=10)]


@dataclass(frozen=True, slots=True)
class FormError:
    """An application error as a form shows it: the message, and the field it is about."""

    message: str
    field: str | None
    status: int

    @classmethod
    def of(cls, e: SsjError) -> FormError:
        named = e.fields.get("field") or e.needs
        return cls(e.message, str(named) if named else None, status_of(e))


def _now(ctx: AppContext) -> str:
    return format_utc(ctx.clock.now())


def _checked(value: str) -> bool:
    return value.lower() in ("1", "on", "yes", "true")


def confirm_page(
    request: Request,
    *,
    title: str,
    message: str,
    action: str,
    fields: dict[str, str],
    button: str,
    back: str,
    details: list[tuple[str, str]] | None = None,
) -> Response:
    """The page that asks before an irreversible action: what it does, the form that posts
    ``fields`` (and ``confirm=yes``) to ``action`` again, and the way back."""
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "message": message,
            "action": action,
            "fields": fields,
            "button": button,
            "back": back,
            "details": details or [],
        },
    )


# --- units ----------------------------------------------------------------------------------


@dataclass
class Node:
    unit: units.Unit
    parent_code: str | None
    children: list[Node] = field(default_factory=list)


def _subtree(ctx: AppContext, who: Actor) -> list[units.Unit]:
    with ctx.connect() as raw, raw.read() as cur:
        return [u for u in units.load(cur, raw.sql) if who.sees_path(u.path)]


def _tree(shown: list[units.Unit]) -> list[Node]:
    """The units as a forest, parents first, children by code."""
    by_id = {u.id: Node(u, None) for u in sorted(shown, key=lambda u: (len(u.path), u.code))}
    roots: list[Node] = []
    for node in by_id.values():
        parent = by_id.get(node.unit.parent_id) if node.unit.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            node.parent_code = parent.unit.code
            parent.children.append(node)
    return roots


def _unit_form(values: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": "", "name": "", "kind": "office", "parent": "", "head": "", "email": "",
            "reports": False, **(values or {})}  # fmt: skip


def _units_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    *,
    form: dict[str, Any] | None = None,
    error: FormError | None = None,
    notice: str = "",
) -> Response:
    shown = _subtree(ctx, who)
    return render(
        request,
        "admin_units.html",
        {
            "tree": _tree(shown),
            "count": len(shown),
            "parents": [u for u in shown if not u.is_office],
            "kinds": units.KINDS,
            "form": _unit_form(form),
            "error": error,
            "notice": notice,
        },
        status=error.status if error else 200,
    )


@router.get("/admin/units")
def units_page(
    request: Request,
    who: Annotated[Actor, PageUser("unit.manage")],
    ctx: ContextDep,
    added: Annotated[str, Query(max_length=32)] = "",
    changed: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The subtree's units as a tree, and the form that adds one."""
    notice = f"已新增单位 {added}" if added else (f"已修改单位 {changed}" if changed else "")
    return _units_page(request, ctx, who, notice=notice)


@router.post("/admin/units")
def add_unit(
    request: Request,
    who: Annotated[Actor, PageUser("unit.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    code: Short = "",
    name: Short = "",
    kind: Short = "",
    parent: Short = "",
    head: Short = "",
    email: Short = "",
    reports: Flag = "",
) -> Response:
    check_csrf(request, csrf_token)
    typed = {"code": code, "name": name, "kind": kind, "parent": parent, "head": head,
             "email": email, "reports": _checked(reports)}  # fmt: skip
    try:
        new = units.NewUnit(code, name, units.parse_kind(kind), parent or None, head.strip(),
                            email.strip(), _checked(reports))  # fmt: skip
        with ctx.connect() as raw, acting(who):
            made = units.add(raw, new, actor=who.username, now=_now(ctx), within=who)
    except (InvalidInput, NotFound) as e:
        return _units_page(request, ctx, who, form=typed, error=FormError.of(e))
    return RedirectResponse(f"/admin/units?{urlencode({'added': made.code})}", status_code=303)


def _unit_in_scope(ctx: AppContext, who: Actor, code: str) -> tuple[units.Unit, str | None]:
    with ctx.connect() as raw, raw.read() as cur:
        unit = units.find(cur, raw.sql, code, within=who, field="code")
        parent = units.by_id(cur, raw.sql, unit.parent_id).code if unit.parent_id else None
    return unit, parent


def _edit_page(
    request: Request,
    unit: units.Unit,
    parent: str | None,
    form: dict[str, Any],
    error: FormError | None = None,
) -> Response:
    return render(
        request,
        "admin_unit_edit.html",
        {"unit": unit, "parent": parent, "kinds": units.KINDS, "form": form, "error": error},
        status=error.status if error else 200,
    )


@router.get("/admin/units/import")
def import_page(
    request: Request, who: Annotated[Actor, PageUser("unit.manage")], ctx: ContextDep
) -> Response:
    return render(request, "admin_units_import.html", {"result": None, "rejected": None})


@router.get("/admin/units/template")
def units_template(
    request: Request, who: Annotated[Actor, PageUser("unit.manage")], ctx: ContextDep
) -> Response:
    """The units sheet's template (as ``ssj template units``)."""
    return download(unit_table.write_template, "单位导入模板.xlsx")


@router.post("/admin/units/import")
def import_sheet(
    request: Request,
    who: Annotated[Actor, PageUser("unit.manage")],
    ctx: ContextDep,
    file: Annotated[UploadFile, File()],
    csrf_token: Csrf = "",
    dry_run: Flag = "",
) -> Response:
    """The sheet checked whole (``unit_table.import_units``): one bad row rejects it, every
    row's problem listed, nothing written."""
    check_csrf(request, csrf_token)
    from workflow.sampling.directories import ImportRejected

    try:
        with uploaded(file, ctx.settings.imports) as path, ctx.connect() as raw, acting(who):
            result = unit_table.import_units(
                raw, path, actor=who.username, now=_now(ctx), dry_run=_checked(dry_run),
                within=who,
            )  # fmt: skip
            name = path.name
    except ImportRejected as e:
        rows = e.fields.get("errors") or []
        return render(
            request,
            "admin_units_import.html",
            {
                "result": None,
                "rejected": {
                    "message": e.message.split("\n")[0],
                    "rows": rows,
                    "total": len(e.problems),
                },
            },
            status=422,
        )
    except InvalidInput as e:  # no file, not a sheet, too large
        return render(
            request,
            "admin_units_import.html",
            {"result": None, "rejected": {"message": e.message, "rows": [], "total": 0}},
            status=422,
        )
    return render(
        request, "admin_units_import.html", {"result": result, "file": name, "rejected": None}
    )


@router.get("/admin/units/{code}")
def edit_unit_page(
    request: Request,
    code: str,
    who: Annotated[Actor, PageUser("unit.manage")],
    ctx: ContextDep,
) -> Response:
    unit, parent = _unit_in_scope(ctx, who, code)
    form = {k: getattr(unit, k) for k in units.EDITABLE}
    return _edit_page(request, unit, parent, form)


@router.post("/admin/units/{code}")
def edit_unit(
    request: Request,
    code: str,
    who: Annotated[Actor, PageUser("unit.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    new_code: Short = "",
    name: Short = "",
    kind: Short = "",
    head: Short = "",
    email: Short = "",
    reports: Flag = "",
) -> Response:
    check_csrf(request, csrf_token)
    unit, parent = _unit_in_scope(ctx, who, code)
    typed = {"code": new_code, "name": name, "kind": kind, "head": head, "email": email,
             "reports": _checked(reports)}  # fmt: skip
    try:
        changes: dict[str, Any] = {
            "code": new_code, "name": name, "kind": units.parse_kind(kind), "head": head.strip(),
            "email": email.strip(), "reports": _checked(reports),
        }  # fmt: skip
        changes = {k: v for k, v in changes.items() if v != getattr(unit, k)}
        with ctx.connect() as raw, acting(who):
            made = units.edit(raw, unit.code, changes, actor=who.username, now=_now(ctx),
                              within=who)  # fmt: skip
    except (InvalidInput, NotFound) as e:
        return _edit_page(request, unit, parent, typed, FormError.of(e))
    return RedirectResponse(f"/admin/units?{urlencode({'changed': made.code})}", status_code=303)


# --- accounts -------------------------------------------------------------------------------


def _roles() -> list[tuple[str, str]]:
    return [(r, permissions.ROLES[r]) for r in permissions.ACCOUNT_ROLES]


@router.get("/admin/users")
def users_page(
    request: Request, who: Annotated[Actor, PageUser("user.manage")], ctx: ContextDep
) -> Response:
    with ctx.connect() as raw, raw.read() as cur:
        found = accounts.listing(cur, raw.sql, who)
    return render(request, "admin_users.html", {"accounts": found})


def _new_user_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    form: dict[str, str] | None = None,
    error: FormError | None = None,
) -> Response:
    typed = {"username": "", "name": "", "role": "clerk", "unit": who.unit_code, "email": "",
             "inspector": "", **(form or {})}  # fmt: skip
    return render(
        request,
        "admin_user_new.html",
        {
            "form": typed,
            "error": error,
            "roles": _roles(),
            "units": _subtree(ctx, who),
            "password_min": accounts.PASSWORD_MIN,
        },
        status=error.status if error else 200,
    )


@router.get("/admin/users/new")
def new_user_page(
    request: Request, who: Annotated[Actor, PageUser("user.manage")], ctx: ContextDep
) -> Response:
    return _new_user_page(request, ctx, who)


@router.post("/admin/users")
def add_user(
    request: Request,
    who: Annotated[Actor, PageUser("user.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    username: Short = "",
    name: Short = "",
    role: Short = "",
    unit: Short = "",
    password: Short = "",
    email: Short = "",
    inspector: Short = "",
) -> Response:
    """A new account; the password typed is hashed and never shown again (nor logged: the
    access log has no bodies, the event only says that a password was set)."""
    check_csrf(request, csrf_token)
    typed = {"username": username, "name": name, "role": role, "unit": unit, "email": email,
             "inspector": inspector}  # fmt: skip
    if not password:
        error = FormError("请输入初始密码", "password", 422)
        return _new_user_page(request, ctx, who, typed, error)
    new = accounts.NewAccount(username, name, role, unit, password, email, inspector or None)
    try:
        with ctx.connect() as raw, acting(who):
            made = accounts.add(raw, new, by=who, now=_now(ctx))
    except (InvalidInput, NotFound) as e:
        return _new_user_page(request, ctx, who, typed, FormError.of(e))
    return RedirectResponse(f"/admin/users/{quote(made.username)}?done=added", status_code=303)


_DONE = {
    "added": "账号已创建",
    "disabled": "账号已停用：其所有登录已结束，API 令牌已吊销",
    "enabled": "账号已重新启用",
    "password": "密码已重置：该账号的所有登录已结束",
}


def _user_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    username: str,
    *,
    done: str = "",
    error: FormError | None = None,
    reason: str = "",
) -> Response:
    with ctx.connect() as raw, raw.read() as cur:
        account = accounts.get(cur, raw.sql, username, who)
        held = accounts.tokens(cur, raw.sql, account.username, by=who)
    return render(
        request,
        "admin_user.html",
        {
            "account": account,
            "live_tokens": sum(t.revoked_at is None for t in held),
            "done": _DONE.get(done, ""),
            "error": error,
            "reason": reason,
            "own": account.username == who.username,
            "password_min": accounts.PASSWORD_MIN,
        },
        status=error.status if error else 200,
    )


@router.get("/admin/users/{username}")
def user_page(
    request: Request,
    username: str,
    who: Annotated[Actor, PageUser("user.manage")],
    ctx: ContextDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _user_page(request, ctx, who, username, done=done)


@router.post("/admin/users/{username}/disable")
def disable_user(
    request: Request,
    username: str,
    who: Annotated[Actor, PageUser("user.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    reason: Long = "",
    confirm: Flag = "",
) -> Response:
    """Disable an account, after confirmation: its sessions end and its tokens are revoked."""
    check_csrf(request, csrf_token)
    with ctx.connect() as raw, raw.read() as cur:
        account = accounts.get(cur, raw.sql, username, who)
    here = f"/admin/users/{quote(account.username)}"
    if confirm != "yes":
        return confirm_page(
            request,
            title=f"停用账号 {account.username}",
            message="停用后该账号立即退出所有登录，其全部 API 令牌随即吊销（重新启用后也不恢复）。"
            "确定停用吗？",
            action=f"{here}/disable",
            fields={"reason": reason},
            button="确认停用",
            back=here,
            details=[
                ("账号", account.username),
                ("姓名", account.name),
                ("单位", account.unit_name),
                ("原因", reason or "（未填写）"),
            ],
        )
    try:
        with ctx.connect() as raw, acting(who):
            accounts.set_disabled(raw, account.username, True, by=who, now=_now(ctx),
                                  reason=reason.strip() or None)  # fmt: skip
    except InvalidInput as e:
        return _user_page(request, ctx, who, account.username, error=FormError.of(e),
                          reason=reason)  # fmt: skip
    return RedirectResponse(f"{here}?done=disabled", status_code=303)


@router.post("/admin/users/{username}/enable")
def enable_user(
    request: Request,
    username: str,
    who: Annotated[Actor, PageUser("user.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
) -> Response:
    check_csrf(request, csrf_token)
    with ctx.connect() as raw, acting(who):
        made = accounts.set_disabled(raw, username, False, by=who, now=_now(ctx))
    return RedirectResponse(f"/admin/users/{quote(made.username)}?done=enabled", status_code=303)


@router.post("/admin/users/{username}/reset-password")
def reset_password(
    request: Request,
    username: str,
    who: Annotated[Actor, PageUser("user.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    new_password: Short = "",
) -> Response:
    """A new password typed by the administrator; every session of the account ends."""
    check_csrf(request, csrf_token)
    try:
        if not new_password:
            raise InvalidInput("请输入新密码", field="new_password")
        with ctx.connect() as raw, acting(who):
            accounts.set_password(raw, username, new_password, by=who, now=_now(ctx))
    except InvalidInput as e:
        error = FormError(e.message, "new_password", status_of(e))
        return _user_page(request, ctx, who, username, error=error)
    return RedirectResponse(f"/admin/users/{quote(username)}?done=password", status_code=303)


# --- API tokens -----------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    user: str,
    *,
    created: tuple[str, accounts.Token] | None = None,
    name: str = "",
    error: FormError | None = None,
    done: str = "",
) -> Response:
    username = user or who.username
    with ctx.connect() as raw, raw.read() as cur:
        held = accounts.tokens(cur, raw.sql, username, by=who)
        owner = accounts.get(cur, raw.sql, username)
    return render(
        request,
        "tokens.html",
        {
            "owner": owner,
            "own": owner.username == who.username,
            "tokens": held,
            "created": created,
            "name": name,
            "error": error,
            "done": done,
            "user": user,
        },
        status=error.status if error else 200,
    )


def _tokens_href(user: str) -> str:
    return "/tokens" + (f"?{urlencode({'user': user})}" if user else "")


@router.get("/tokens")
def tokens_page(
    request: Request,
    who: Annotated[Actor, PageUser("token.manage")],
    ctx: ContextDep,
    user: Annotated[str, Query(max_length=64)] = "",
    revoked: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The API tokens of the account (``user``: an account of an administrator's subtree),
    listed by prefix; the form that makes a new one."""
    done = f"令牌 {revoked} 已吊销" if revoked else ""
    return _tokens_page(request, ctx, who, user, done=done)


@router.post("/tokens")
def create_token(
    request: Request,
    who: Annotated[Actor, PageUser("token.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    name: Short = "",
    user: Short = "",
) -> Response:
    """A new token, shown in full on the answer to this form only (stored as a hash)."""
    check_csrf(request, csrf_token)
    try:
        with ctx.connect() as raw, acting(who):
            text, token = accounts.create_token(
                raw, user or who.username, name, by=who, now=_now(ctx)
            )
    except InvalidInput as e:
        return _tokens_page(request, ctx, who, user, name=name, error=FormError.of(e))
    response = _tokens_page(request, ctx, who, user, created=(text, token))
    response.headers["Cache-Control"] = "no-store"  # the token's only showing stays nowhere
    return response


@router.post("/tokens/revoke")
def revoke_token(
    request: Request,
    who: Annotated[Actor, PageUser("token.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    prefix: Short = "",
    user: Short = "",
    confirm: Flag = "",
) -> Response:
    """Revoke a token by its prefix, after confirmation."""
    check_csrf(request, csrf_token)
    back = safe_next(_tokens_href(user))
    if confirm != "yes":
        with ctx.connect() as raw, raw.read() as cur:
            held = accounts.tokens(cur, raw.sql, user or who.username, by=who)
        token = next((t for t in held if f"ssj_{t.lookup}" == prefix), None)
        if token is None:
            raise NotFound(f"令牌 {prefix!r} 不存在", field="token", value=prefix)
        return confirm_page(
            request,
            title=f"吊销令牌 {prefix}",
            message="吊销后使用该令牌的脚本立即无法访问，且不能恢复（可另建新令牌）。确定吊销吗？",
            action="/tokens/revoke",
            fields={"prefix": prefix, "user": user},
            button="确认吊销",
            back=back,
            details=[("账号", token.username), ("用途", token.name), ("前缀", prefix)],
        )
    with ctx.connect() as raw, acting(who):
        accounts.revoke_token(raw, prefix, by=who, now=_now(ctx))
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}{urlencode({'revoked': prefix})}", status_code=303)
