"""The one normaliser: what clerks type becomes one canonical value (issue #9 §3)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.core import normalize as n
from workflow.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("QX-LD-007", "QX-LD-007"),
        ("ｑｘ-ld-007", "QX-LD-007"),  # full-width letters, lower case
        ("  qx-ld-007\u3000", "QX-LD-007"),  # stray and full-width spaces
        ("ＱＸ－ＬＤ－００７", "QX-LD-007"),  # full-width hyphen and digits
        ("91130227 ma0000000x", "91130227MA0000000X"),  # a credit code typed in groups
        ("１３０２２７００００１", "13022700001"),  # a certificate number
    ],
)
def test_codes_are_nfkc_trimmed_and_upper_case(typed, canonical):
    assert n.code(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("现场", "现场"),
        ("现场检查", "现场"),
        ("实地检查", "现场"),  # seed 003's wording
        ("书面检查", "书面"),
        ("非现场检查", "非现场"),
        ("现场检查、书面检查", "现场、书面"),
        ("书面检查，现场检查", "现场、书面"),  # canonical order, whatever the typed order
        ("非现场；现场 书面", "现场、书面、非现场"),
        ("现场、现场检查", "现场"),  # the same method twice is one
    ],
)
def test_methods_accept_the_documents_wording_and_several_at_once(typed, canonical):
    assert n.methods(typed) == canonical
    assert n.methods(canonical) == canonical  # stored text reads back as itself (exports)


def test_a_wrong_method_names_the_bad_word():
    with pytest.raises(ValueError, match="电话检查 无效"):
        n.methods("现场检查、电话检查")


@pytest.mark.parametrize(
    ("choice", "typed", "canonical"),
    [
        (n.CATEGORY, "重点事项", "重点"),
        (n.CATEGORY, "一般事项", "一般"),
        (n.CATEGORY, "一般", "一般"),
        (n.GRADE, "C级", "C"),
        (n.GRADE, "c", "C"),
        (n.GRADE, "ｃ级", "C"),
        (n.GRADE, " D类 ", "D"),
        (n.SIZE, "小型企业", "小型"),
        (n.SIZE, "微型", "微型"),
        (n.SIZE, "大型单位", "大型"),
        (n.TARGET_TYPE, "社保经办机构", "社会保险经办机构"),
        (n.TARGET_TYPE, "培训机构", "职业培训机构"),
        (n.TARGET_TYPE, "个体户", "个体工商户"),
        (n.TARGET_TYPE, "用人单位", "用人单位"),
        (n.RESULT, "未发现问题", "no_problem"),
        (n.RESULT, "发现问题", "problem"),
        (n.RESULT, "不配合检查", "refused"),
        (n.RESULT, "无法联系", "unreachable"),
        (n.RESULT, "通过登记的住所(经营场所)无法联系", "unreachable"),  # ASCII brackets
        (n.RESULT, "未发现开展相关经营活动", "not_operating"),
        (n.RESULT, "NO_PROBLEM", "no_problem"),
        (n.RESULT, "problem", "problem"),
        (n.OUTCOME, "移送有关部门", "transferred"),
        (n.OUTCOME, "移送公安机关", "transferred_police"),
        (n.OUTCOME, "已整改", "rectified"),
        (n.OUTCOME, "立案查处", "case_filed"),
        (n.OUTCOME, "case_filed", "case_filed"),
        (n.TASK_TYPE, "定向", "directed"),
        (n.TASK_TYPE, "不定向", "undirected"),
        (n.TASK_TYPE, "不定向抽查", "undirected"),
        (n.TASK_TYPE, "Directed", "directed"),
    ],
)
def test_choices_accept_codes_labels_and_real_wording(choice, typed, canonical):
    assert choice(typed) == canonical


@pytest.mark.parametrize(
    ("choice", "typed"),
    [(n.GRADE, "E"), (n.GRADE, "CC"), (n.SIZE, "巨型"), (n.RESULT, "ok"), (n.OUTCOME, "罚款")],
)
def test_other_values_are_refused_with_what_is_expected(choice, typed):
    with pytest.raises(ValueError, match="应为"):
        choice(typed)


def test_results_are_explained_with_their_labels():
    with pytest.raises(
        InvalidInput, match=r"检查结果 'ok' 无效（--result）：应为 no_problem（未发现问题）"
    ):
        n.option("ok", n.RESULT, "--result")


def test_grades_may_be_blank_and_strata_may_be_ungraded():
    assert [n.grade_or_blank(v) for v in ("", "未评级", "无", "b级")] == ["", "", "", "B"]
    assert n.stratum("未评级") == "未评级" and n.stratum("c级") == "C"
    with pytest.raises(ValueError):
        n.stratum("E")


@pytest.mark.parametrize(
    "typed",
    [
        "2024-03-05",
        "2024/3/5",
        "2024.3.5",
        "2024年3月5日",
        "2024年3月5",
        "２０２４年３月５日",  # full-width digits
        " 2024 年 3 月 5 日 ",
        "2024-03-05 00:00:00",  # a datetime cell as text
        "2024-03-05T08:30",
        "20240305",
        "45356",  # an Excel serial in a cell formatted "General"
        45356,
        45356.0,
        date(2024, 3, 5),
        datetime(2024, 3, 5, 14, 0),
    ],
)
def test_dates_as_clerks_write_them(typed):
    assert n.parse_date(typed) == date(2024, 3, 5)


@pytest.mark.parametrize(
    "typed",
    [
        "2024-03-051",  # was accepted (the first 10 characters were read)
        "2024-3/5",  # mixed separators
        "2024-02-30",
        "2024",  # a year, not an Excel serial
        "12",
        "0024-03-05",
        "3/5/2024",
        "2024-03-05abc",
        45356.5,
        True,
        "",
    ],
)
def test_dates_that_are_not_dates_are_refused(typed):
    with pytest.raises(ValueError):
        n.parse_date(typed)


def test_a_past_fact_cannot_lie_in_the_future():
    today = date(2024, 4, 1)
    assert n.parse_date("2024-04-01", not_after=today) == today
    with pytest.raises(ValueError, match="不能晚于今天（2024-04-01）"):
        n.parse_date("2024年4月2日", not_after=today)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2026年12月", "2026-12"),
        ("2026/12", "2026-12"),
        ("2026.12", "2026-12"),
        ("2026-12", "2026-12"),
        ("２０２６／１２", "2026-12"),  # full-width
        ("2026年4月份", "2026-04"),
        ("2026-12-01", "2026-12"),  # Excel turns "2026/12" typed in a cell into this date
        ("2026年3-5月", "2026-03..2026-05"),
        ("2026年3月至5月", "2026-03..2026-05"),
        ("2026年3月 - 2026年5月", "2026-03..2026-05"),
        ("2026/3-2026/5", "2026-03..2026-05"),
        ("2026/3-5", "2026-03..2026-05"),
        ("2026.3-2026.5", "2026-03..2026-05"),
        ("2026-03~2026-05", "2026-03..2026-05"),
        ("2026-03..2026-05", "2026-03..2026-05"),  # as stored
        ("2025年11月-2026年2月", "2025-11..2026-02"),
        ("2026/3-3", "2026-03"),
        ("", ""),
    ],
)
def test_months_as_clerks_write_them(typed, canonical):
    assert n.months(typed) == canonical
    assert n.months(canonical) == canonical


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026年13月", "月份 13 超出范围"),
        ("2026/0", "月份 0 超出范围"),
        ("2026年7-6月", "起止颠倒"),
        ("2026/12/15", "应为月份而不是某一天"),
        ("2026-3-5", "应为月份而不是某一天"),  # a date, or a span? neither is guessed
        ("四月", "应为月份（如 2024年4月、2024/4"),
        ("2026", "应为月份"),
        ("2026年", "应为月份"),
        ("2026/12/", "应为月份"),
    ],
)
def test_months_that_are_not_months_are_refused(typed, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        n.months(typed)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("劳动关系、社会保险", ["劳动关系", "社会保险"]),
        ("劳动关系，社会保险,工资支付", ["劳动关系", "社会保险", "工资支付"]),
        ("劳动关系；社会保险;工资支付", ["劳动关系", "社会保险", "工资支付"]),
        ("劳动关系 社会保险\u3000工资支付", ["劳动关系", "社会保险", "工资支付"]),
        ("劳动关系、、 社会保险 ；", ["劳动关系", "社会保险"]),
        ("劳动关系、劳动关系", ["劳动关系"]),
        ("", []),
    ],
)
def test_lists_split_on_every_separator_clerks_use(typed, words):
    assert n.split_list(typed) == words


def test_numbers_ratios_and_task_numbers():
    assert [n.count(v) for v in ("3", "３", "3次", "", " 12 ")] == [3, 3, 3, 0, 12]
    with pytest.raises(ValueError):
        n.count("-1")
    with pytest.raises(ValueError):
        n.count("三")
    assert [n.ratio_text(v) for v in ("10％", "１０ %", "0.1")] == ["10%", "10%", "0.1"]
    assert [n.task_no(v) for v in ("001号", "１号", "12", "００３号")] == [
        "001号",
        "001号",
        "012号",
        "003号",
    ]
    with pytest.raises(ValueError):
        n.task_no("0号")


def test_free_text_is_kept_as_typed_but_csv_escapes_are_undone():
    assert n.text("  迁西县某公司（分公司） ") == "迁西县某公司（分公司）"  # brackets kept
    assert n.text('\'=HYPERLINK("x")') == '=HYPERLINK("x")'
    assert n.text("'+86 0315") == "+86 0315"
    assert n.text("'单引号开头") == "'单引号开头"  # only ssj's own escape is undone


def test_the_template_text_lists_values_and_accepted_wordings():
    assert n.METHOD.allowed().startswith("现场/书面/非现场（也接受：现场检查")
    assert "社保经办机构" in n.TARGET_TYPE.allowed()


@given(st.text(max_size=30))
def test_normalising_is_idempotent(s):
    assert n.code(n.code(s)) == n.code(s)
    assert n.word(n.word(s)) == n.word(s)
    assert n.split_list("、".join(n.split_list(s))) == n.split_list(s)
