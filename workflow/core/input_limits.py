"""Checks that keep hostile input out: ids in range, text without control characters, names of
a sane length, JSON that cannot exhaust the stack. Every refusal is an ``InvalidInput`` (exit 2)
with a zh-CN message saying what is wrong and where; nothing here ever lets a traceback out.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from workflow.core.errors import InvalidInput

# Ids are INTEGER columns (the migrations' sa.Integer): signed 32-bit in PostgreSQL, which
# refuses a larger number in a comparison (SQLite would take 64 bits).
ID_MAX = 2**31 - 1
# Names (targets, inspectors, items, plans, tasks, units): long enough for any real one.
NAME_MAX_CHARS = 200
# Free text typed on the command line (reasons, notes, JSON data).
TEXT_MAX_CHARS = 32_768
# JSON files and options are parsed with the C parser; deeper nesting than this is refused
# before it can reach Python's recursion limit.
JSON_MAX_DEPTH = 200

# Control characters (C0 but tab and line breaks, DEL, C1), lone surrogates, and invisible
# characters that change how text is shown: bidi embeddings, overrides, isolates and marks (a
# name displayed reversed), zero-width characters, the BOM and Unicode line separators.
_INVISIBLE = "\u200b-\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029\ud800-\udfff"
_BAD_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_INVISIBLE}]")
_BAD_BUT_LINE_BREAKS = re.compile(f"[\\x00-\\x09\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_INVISIBLE}]")
_BAD_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")


def check_id(value: int, label: str = "编号") -> int:
    """A database id: a positive signed 32-bit integer (PostgreSQL's INTEGER)."""
    if not 1 <= value <= ID_MAX:
        raise InvalidInput(f"{label} {value} 无效：应为 1 到 {ID_MAX} 之间的整数")
    return value


_NAMES = {"\x00": "空字符 NUL", "\t": "制表符", "\n": "换行符", "\r": "回车符"}


def clean_line(text: str) -> bool:
    """True when ``text`` holds no control or invisible character at all (not even a tab)."""
    return _BAD_ONE_LINE.search(text) is None


def clean_but_line_breaks(text: str) -> bool:
    """True when ``text`` holds no control or invisible character other than line breaks."""
    return _BAD_BUT_LINE_BREAKS.search(text) is None


def bad_char(text: str, *, multiline: bool = False) -> str | None:
    """Describe the first control or invisible direction character in ``text`` (None: clean).
    ``multiline`` allows tab and line breaks (free-text notes, lists one per line)."""
    m = (_BAD_MULTILINE if multiline else _BAD_ONE_LINE).search(text)
    if m is None:
        return None
    ch = m.group()
    name = _NAMES.get(ch) or unicodedata.name(ch, "控制字符")
    return f"第 {m.start() + 1} 个字符是不可见的控制字符 U+{ord(ch):04X}（{name}）"


def check_text(
    value: str, label: str, *, max_chars: int = NAME_MAX_CHARS, multiline: bool = False
) -> str:
    """A name or other text typed on the command line: no control characters, bounded length."""
    problem = text_problem(value, max_chars=max_chars, multiline=multiline)
    if problem:
        raise InvalidInput(f"{label} {problem}")
    return value


def text_problem(value: str, *, max_chars: int, multiline: bool = False) -> str | None:
    if len(value) > max_chars:
        return f"过长：{len(value)} 个字符，最多 {max_chars} 个"
    return bad_char(value, multiline=multiline)


_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str) -> int:
    """Maximum nesting of ``[``/``{`` outside strings, without parsing (no recursion)."""
    depth = deepest = 0
    for m in _DEPTH_TOKENS.finditer(text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif tok in "]}":
            depth -= 1
    return deepest


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"数值 {text} 超出范围")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"不允许 {name}")


def load_json(text: str, source: str, *, exact_numbers: bool = False) -> Any:
    """Parse JSON text from a file or an option. ``exact_numbers``: decimals as Decimal, so
    ``1e400`` stays a finite exact number instead of float infinity. NaN and Infinity are
    refused; nesting deeper than JSON_MAX_DEPTH is refused before parsing."""
    if json_depth(text) > JSON_MAX_DEPTH:
        raise InvalidInput(f"{source} 不是可接受的 JSON：嵌套超过 {JSON_MAX_DEPTH} 层")
    try:
        return json.loads(
            text,
            parse_float=Decimal if exact_numbers else _finite,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise InvalidInput(f"{source} 不是可接受的 JSON：嵌套过深") from None
    except ValueError as e:
        raise InvalidInput(f"{source} 不是有效的 JSON：{e}") from None


def decode_utf8(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InvalidInput(
            f"{source} 第 {line} 行不是有效的 UTF-8 文本（字节位置 {e.start}）"
        ) from None
