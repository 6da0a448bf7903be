"""What clerks type, made canonical: one set of pure functions shared by every import (the
directories, the plan table) and every command argument.

Full-width letters, digits, punctuation and spaces (NFKC), stray spaces, lower-case codes, the
wording of real documents (现场检查、书面检查; C级; 小型企业; 社保经办机构; 未发现问题) and the
many ways a date is written all become one canonical value before anything is validated or
stored, so ``ｑｘ-ld-007`` imported is ``QX-LD-007`` in plans, draws and the CLI alike.

Each function raises ``ValueError`` with a zh-CN message saying what was expected; callers add
where (FILE:ROW:COLUMN, or the option). Nothing here reads the clock: a date that records a past
fact is checked against the ``today`` the caller passes in. Values already canonical take a fast
path (a dict hit, or ``str.isascii``), since these run once per cell on the import's hot path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from fractions import Fraction
from functools import lru_cache
from typing import TypeVar

from states import OUTCOMES, RESULTS

T = TypeVar("T")


def nfkc(v: str) -> str:
    """NFKC and trimmed: full-width ``ＡＢ１２％　`` becomes ``AB12%``."""
    if v.isascii():
        return v.strip()
    return unicodedata.normalize("NFKC", v).strip()


def fold(v: str) -> str:
    """The form choices are compared in: NFKC, no whitespace at all, upper case."""
    s = "".join(nfkc(v).split()).upper()
    if s.isascii():
        return s
    # Dropping a space or upper-casing can leave a sequence NFKC composes ("H" + U+0308 from
    # "H¨"): repeat until nothing changes, so that folding twice gives the same text.
    for _ in range(4):
        again = "".join(unicodedata.normalize("NFKC", s).split()).upper()
        if again == s:
            break
        s = again
    return s


def code(v: str) -> str:
    """A code (item code, credit code, certificate no., plan no.): NFKC, no spaces, upper case."""
    if v.isascii():
        s = v.strip()
        if s.isalnum():  # the common case: already one word
            return s.upper()
        return "".join(s.split()).upper()
    return fold(v)


_CSV_ESCAPED = re.compile(r"'[=+\-@\t\r]")


def text(v: str) -> str:
    """Free text (names, addresses, notes): trimmed, as typed otherwise. A leading ``'`` that
    ssj's own CSV export put before ``= + - @`` (so spreadsheets read it as text) is removed."""
    v = v.strip()
    if v[:1] == "'" and _CSV_ESCAPED.match(v):
        return v[1:]
    return v


@lru_cache(maxsize=4096)  # a few regions, industries and offices repeat over many rows
def word(v: str) -> str:
    """A short word that is matched against others (region, industry, office, a field): NFKC,
    inner runs of whitespace collapsed to one space."""
    if not v:
        return v
    s = text(v)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)  # returns s itself when already normal
    parts = s.split()
    return parts[0] if len(parts) == 1 else " ".join(parts)


# Lists: every separator clerks use, full-width too (NFKC folds ；，to ;, but not 、).
_LIST_SEP = re.compile(r"[;；,，、\s]+")


def split_list(v: str) -> list[str]:
    """``劳动关系、社会保险；工资支付`` → three words; duplicates dropped, order kept."""
    if not v:
        return []
    return list(dict.fromkeys(p for p in _LIST_SEP.split(word(v)) if p))


def split_codes(v: str) -> list[str]:
    """A list of codes (recusal scopes): each one through :func:`code`."""
    return list(dict.fromkeys(code(p) for p in split_list(v)))


# --- choices --------------------------------------------------------------------------------


class Choice:
    """A closed set of canonical values and the other wordings that mean them."""

    def __init__(
        self,
        label: str,
        values: Iterable[str],
        aliases: Mapping[str, str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.label = label
        self.values: tuple[str, ...] = tuple(values)
        self.aliases: dict[str, str] = dict(aliases or {})
        self.labels: dict[str, str] = dict(labels or {})  # code → its Chinese label
        lookup: dict[str, str] = {}
        for v in self.values:
            lookup[v] = lookup[fold(v)] = v
        for alias, v in self.aliases.items():
            if v not in self.values:
                raise ValueError(f"alias {alias!r} names {v!r}, not one of {self.values}")
            lookup.setdefault(alias, v)
            lookup.setdefault(fold(alias), v)
        self._lookup = lookup
        self.parse = self._parser(lookup)

    def _parser(self, lookup: dict[str, str]) -> Callable[[str], str]:
        """A plain function (cheaper to call than ``__call__``) for the import's hot path."""
        get = lookup.get

        def parse(v: str) -> str:
            hit = get(v)  # the fast path: already canonical
            if hit is None:
                hit = get(fold(v))
                if hit is None:
                    raise ValueError(self.expected())
            return hit

        return parse

    def expected(self) -> str:
        if self.labels:
            return "应为 " + "、".join(f"{v}（{self.labels[v]}）" for v in self.values) + " 之一"
        return f"应为 {'/'.join(self.values)} 之一"

    def __call__(self, v: str) -> str:
        return self.parse(v)

    def get(self, v: str) -> str | None:
        try:
            return self(v)
        except ValueError:
            return None

    def many(self, v: str) -> list[str]:
        """Several at once (``现场检查、书面检查``): canonical, deduplicated, in the set's order."""
        words = split_list(v)
        bad = [w for w in words if self.get(w) is None]
        if bad:
            raise ValueError(f"{'、'.join(bad)} 无效：{self.expected()}（多个用顿号分隔）")
        found = {self(w) for w in words}
        return [x for x in self.values if x in found]

    def allowed(self) -> str:
        """The allowed values and the accepted wordings, for templates and messages."""
        others = [a for a in self.aliases if fold(a) not in {fold(v) for v in self.values}]
        tail = f"（也接受：{'、'.join(others)}）" if others else ""
        return "/".join(self.values) + tail


TARGET_TYPES = (
    "用人单位",
    "个体工商户",
    "劳务派遣单位",
    "人力资源服务机构",
    "职业培训机构",
    "社会保险经办机构",
)
TARGET_TYPE = Choice(
    "类型",
    TARGET_TYPES,
    {
        "社保经办机构": "社会保险经办机构",
        "社会保险经办单位": "社会保险经办机构",
        "培训机构": "职业培训机构",
        "职业技能培训机构": "职业培训机构",
        "个体户": "个体工商户",
        "劳务派遣企业": "劳务派遣单位",
        "劳务派遣公司": "劳务派遣单位",
        "人力资源服务企业": "人力资源服务机构",
    },
)
METHOD = Choice(
    "检查方式",
    ("现场", "书面", "非现场"),
    {"现场检查": "现场", "实地检查": "现场", "书面检查": "书面", "非现场检查": "非现场"},
)
METHOD_SEP = "、"  # an item's several methods, stored as one canonical text: 现场、书面
CATEGORY = Choice("事项类别", ("重点", "一般"), {"重点事项": "重点", "一般事项": "一般"})
GRADES = ("A", "B", "C", "D")
GRADE = Choice("信用风险等级", GRADES, {f"{g}{s}": g for g in GRADES for s in ("级", "类")})
SIZES = ("大型", "中型", "小型", "微型")
SIZE = Choice(
    "规模",
    SIZES,
    {f"{s[0]}{suffix}": s for s in SIZES for suffix in ("型企业", "型单位", "型")},
)
TASK_TYPES = {"directed": "定向", "undirected": "不定向"}
TASK_TYPE = Choice(
    "抽查类型",
    tuple(TASK_TYPES),
    {
        "定向": "directed",
        "定向抽查": "directed",
        "不定向": "undirected",
        "不定向抽查": "undirected",
    },
)
RESULT = Choice(
    "检查结果",
    tuple(RESULTS),
    {
        **{label: key for key, label in RESULTS.items()},
        "无法联系": "unreachable",
        "通过登记的住所无法联系": "unreachable",
        "通过登记的经营场所无法联系": "unreachable",
        "未发现开展相关经营活动": "not_operating",
        "拒绝检查": "refused",
    },
    labels=RESULTS,
)
OUTCOME = Choice(
    "后续处置",
    tuple(OUTCOMES),
    {
        **{label: key for key, label in OUTCOMES.items()},
        "整改": "rectified",
        "立案": "case_filed",
        "移送": "transferred",
        "移送公安": "transferred_police",
    },
    labels=OUTCOMES,
)
YES_NO = Choice(
    "是否",
    ("是", "否"),
    {
        "可用": "是",
        "1": "是",
        "TRUE": "是",
        "Y": "是",
        "YES": "是",
        "不可用": "否",
        "0": "否",
        "FALSE": "否",
        "N": "否",
        "NO": "否",
    },
)
UNGRADED = "未评级"  # the stratum of targets without a credit-risk grade


def grade_or_blank(v: str) -> str:
    """A target's grade: A–D (``C级``, ``c``), or blank when not graded (``未评级``, ``无``)."""
    if v == "" or v in GRADES:
        return v
    if fold(v) in ("", UNGRADED, "无", "-"):
        return ""
    return GRADE(v)


def stratum(v: str) -> str:
    """A stratum name in a task's ratios: a grade, or 未评级."""
    return UNGRADED if fold(v) == UNGRADED else GRADE(v)


def methods(v: str) -> str:
    """An item's method(s) as stored: ``现场检查、书面检查`` → ``现场、书面``."""
    if v in METHOD.values:
        return v
    found = METHOD.many(v)
    if not found:
        raise ValueError(METHOD.expected())
    return METHOD_SEP.join(found)


# --- numbers ------------------------------------------------------------------------------------


def count(v: str) -> int:
    """A non-negative count: ``３``, ``3次`` → 3."""
    if v.isdigit() and v.isascii():
        return int(v)
    s = fold(v).removesuffix("次")
    if s == "":
        return 0
    if not (s.isascii() and s.isdigit()):
        raise ValueError("应为非负整数")
    return int(s)


def ratio_text(v: str) -> str:
    """``１０％``, ``10 %`` → ``10%``: the text a ratio is then parsed from."""
    return "".join(nfkc(v).split())


_TASK_NO = re.compile(r"(\d{1,3})号?")


def task_no(v: str) -> str:
    """A task number as seed 004 writes it: ``001号``; ``1``, ``１号`` and ``001`` too."""
    s = fold(v)
    m = _TASK_NO.fullmatch(s)
    if not m or int(m[1]) == 0:
        raise ValueError("应为三位数字加“号”，如 001号")
    return f"{int(m[1]):03d}号"


# --- dates ----------------------------------------------------------------------------------

# 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日 (the same separator twice), and the time of day
# a datetime cell or an ISO timestamp may carry after it.
_DATE = re.compile(
    r"(\d{4})(?:(?P<s>[-/.])(\d{1,2})(?P=s)(\d{1,2})|年(\d{1,2})月(\d{1,2})日?)"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Excel stores a date as days since 1899-12-30; a cell formatted "General" shows that number.
# Only serials of 1950–2099 are taken as dates, so that a stray year or count is not one.
_EXCEL_SERIALS = range(18264, 73051)
DATE_FORMS = "YYYY-MM-DD、YYYY/M/D、YYYY.M.D 或 YYYY年M月D日"
YEARS = range(1900, 2100)


def _excel_day(serial: int) -> date:
    from openpyxl.utils.datetime import from_excel

    moment: datetime = from_excel(serial)  # an integer serial is a datetime at midnight
    return moment.date()


def parse_date(v: str | date | int | float, *, not_after: date | None = None) -> date:
    """A calendar date as clerks write it, or an Excel date cell (a ``datetime``/``date``, or
    its serial number). ``not_after``: the local date of today, for a date that records a past
    fact (it cannot lie in the future)."""
    if isinstance(v, datetime):
        day = v.date()
    elif isinstance(v, date):
        day = v
    elif isinstance(v, int | float) and not isinstance(v, bool):
        if v != int(v) or int(v) not in _EXCEL_SERIALS:
            raise ValueError(f"应为日期（{DATE_FORMS}）")
        day = _excel_day(int(v))
    else:
        s = str(v).strip()
        if not s.isascii():
            s = re.sub(r"\s*([年月日])\s*", r"\1", nfkc(s))
        if s.isdigit():
            m = _COMPACT_DATE.fullmatch(s)
            if m:
                parts = (m[1], m[2], m[3])
            elif int(s) in _EXCEL_SERIALS:
                return _checked(_excel_day(int(s)), not_after)
            else:
                raise ValueError(f"应为日期（{DATE_FORMS}）")
        else:
            m = _DATE.fullmatch(s)
            if not m:
                raise ValueError(f"应为日期（{DATE_FORMS}）")
            parts = (m[1], m[3] or m[5], m[4] or m[6])
        year, month, dom = (int(p) for p in parts)
        if year not in YEARS:
            raise ValueError(f"年份 {year} 超出范围（{YEARS.start}–{YEARS.stop - 1}）")
        try:
            day = date(year, month, dom)
        except ValueError:
            raise ValueError(f"{year}年{month}月{dom}日 不是有效日期") from None
    return _checked(day, not_after)


def local_day(v: str, tz: str) -> date:
    """The day a user states: a date as clerks write it, or a moment in the bureau's zone
    (2024-04-02T15:00, Beijing time, or with its offset) taken as its local date there."""
    from zoneinfo import ZoneInfo

    from workflow.core.clock import parse_time

    try:
        return parse_date(v)
    except ValueError:
        try:
            return parse_time(v, tz).astimezone(ZoneInfo(tz)).date()
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past what a datetime holds
            raise ValueError("超出可处理的日期范围") from None
        except ValueError:
            raise ValueError(
                "应为日期（如 2024-04-02、2024/4/2、2024年4月2日）或北京时间时刻（如 2024-04-02T15:00）"
            ) from None


def _checked(day: date, not_after: date | None) -> date:
    if day.year not in YEARS:
        raise ValueError(f"年份 {day.year} 超出范围（{YEARS.start}–{YEARS.stop - 1}）")
    if not_after is not None and day > not_after:
        raise ValueError(f"不能晚于今天（{not_after.isoformat()}）：记录的是已发生的事")
    return day


# --- months (a task's 抽查时间) -------------------------------------------------------------

# A month: 2024年4月 (月 or 月份; 月 may be left off before a span's end), 2024-4, 2024/4, 2024.4.
# A span: two months, or a month and an end month of its year (2024年4-6月, 2024/4-6), joined by
# a dash, ~, 至 or 到, or the stored "..". "2024-4-6" is a date, not a span: see months().
_MONTH = r"(\d{4})(?:年(\d{1,2})(?:月份?)?|[-/.](\d{1,2}))"
_MONTHS = re.compile(rf"{_MONTH}(?:(?:\.\.|[-~—–至到])(?:{_MONTH}|(\d{{1,2}})(?:月份?)?))?")
MONTH_FORMS = "如 2024年4月、2024/4、2024.4、2024-04，或一段月份如 2024年4-6月、2024/4-2024/6"


def months(v: str) -> str:
    """A task's months, stored as ``2024-04`` or ``2024-04..2024-06`` (blank: not set)."""
    s = "".join(nfkc(v).split())
    if not s:
        return ""
    d = _DATE.fullmatch(s)
    if d:
        # Excel turns "2024/4" or "2024年4月" typed in a cell into the date 2024-04-01.
        if int(d[4] or d[6]) != 1:
            raise ValueError(f"应为月份而不是某一天（{MONTH_FORMS}）")
        m: tuple[str, str, str | None, str | None] = (d[1], d[3] or d[5], None, None)
    else:
        hit = _MONTHS.fullmatch(s)
        if hit is None:
            raise ValueError(f"应为月份（{MONTH_FORMS}）")
        m = (hit[1], hit[2] or hit[3], hit[4], hit[5] or hit[6] or hit[7])
    y1, m1 = int(m[0]), int(m[1])
    y2, m2 = int(m[2] or y1), int(m[3] or m1)
    for month in (m1, m2):
        if not 1 <= month <= 12:
            raise ValueError(f"月份 {month} 超出范围（1–12 月）")
    if (y2, m2) < (y1, m1):
        raise ValueError("起止颠倒：结束月份早于开始月份")
    start = f"{y1}-{m1:02d}"
    return start if (y1, m1) == (y2, m2) else f"{start}..{y2}-{m2:02d}"


# --- what each command option means ---------------------------------------------------------


def option(value: str, parse: Callable[[str], T], name: str) -> T:
    """A command option through its normaliser, the error naming the option (for the CLI)."""
    from workflow.core.errors import InvalidInput

    try:
        return parse(value)
    except ValueError as e:
        if isinstance(parse, Choice):
            raise InvalidInput(f"{parse.label} {value!r} 无效（{name}）：{e}") from None
        raise InvalidInput(f"{name} 的值 {value!r} 无效：{e}") from None


def percent(ratio: str) -> str:
    """An exact ratio as people write it: "0.05" → "5%"."""
    from decimal import Decimal

    return f"{(Decimal(ratio) * 100).normalize():f}%"


def exact_ratio(ratio: str) -> Fraction:
    """An exact decimal ratio in (0, 1] ("0.05"; a percent sign is not part of a record)."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(ratio)
    except (InvalidOperation, TypeError):
        raise ValueError(f'抽查比例 {ratio!r} 不是精确小数（如 "0.05"）') from None
    if not value.is_finite() or not (0 < value <= 1):
        raise ValueError(f"抽查比例 {ratio!r} 超出范围 (0, 1]")
    return Fraction(value)
