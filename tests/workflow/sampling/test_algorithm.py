"""ssj-draw-v1: exact bytes, the properties the public relies on, and the verifiers."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.sampling import algorithm
from workflow.sampling.algorithm import Candidate, DrawError, StratumInput, run_draw, verify_record
from workflow.sampling.credit_code import make

CHECKER = Path(__file__).resolve().parents[3] / "docs" / "verify_draw.py"
SECRET = bytes(range(32))


def test_known_answer_from_the_design_text():
    """Recomputed here with hashlib alone, straight from DESIGN §6."""
    codes = [make("130227", i) for i in range(10)]
    rec = run_draw(
        SECRET,
        "2024-04-01 上证指数收盘 3077.38",
        [StratumInput("all", "0.2", codes)],
        [Candidate(f"J{i}") for i in range(4)],
        group_size=2,
        cap=5,
    ).as_json()
    assert rec["commitment"] == hashlib.sha256(SECRET).hexdigest()
    seed = hashlib.sha256(SECRET + "2024-04-01 上证指数收盘 3077.38".encode()).digest()
    ranks = sorted(
        (hashlib.sha256(seed + b"target" + b"\x00" + b"all" + b"\x00" + c.encode()).digest(), c)
        for c in codes
    )
    assert rec["strata"][0]["k"] == 2 and rec["strata"][0]["drawn"] == [c for _, c in ranks[:2]]
    assert (
        rec["strata"][0]["population_digest"]
        == hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()
    )
    first = ranks[0][1]
    order = sorted(
        (f"J{i}" for i in range(4)),
        key=lambda j: hashlib.sha256(
            seed + b"inspector\x00" + first.encode() + b"\x00" + j.encode()
        ).digest(),
    )
    assert rec["targets"][0] == {
        "code": first,
        "eligible": order,
        "group": order[:2],
        "substitutes": order[2:],
    }


@pytest.mark.parametrize(
    ("n", "ratio", "k"),
    [
        (0, "0.05", 0),
        (1, "0.03", 1),
        (19, "0.05", 1),
        (20, "0.05", 1),
        (21, "0.05", 2),
        (100, "0.10", 10),
        (3, "1", 3),
        (7, "0.3333", 3),
    ],
)
def test_k_is_exact_and_a_small_stratum_draws_one(n, ratio, k):
    assert algorithm.sample_size(n, ratio) == k


def test_bad_ratios_are_refused():
    for bad in ("5%", "0", "1.5", "abc", "NaN"):
        with pytest.raises(DrawError, match="比例"):
            algorithm.sample_size(10, bad)


strata_st = st.lists(st.integers(0, 60), min_size=1, max_size=4)
pool_st = st.lists(
    st.tuples(
        st.booleans(),
        st.sets(st.sampled_from(["劳动关系", "社会保险", "人力资源市场"]), min_size=1),
        st.integers(0, 3),
    ),
    min_size=2,
    max_size=12,
)


def _setup(sizes, pool_spec):
    strata = []
    for si, n in enumerate(sizes):
        codes = [make("130227", si * 1000 + i) for i in range(n)]
        strata.append(StratumInput("ABCD"[si], ["0.05", "0.1", "0.3", "1"][si], codes))
    all_codes = [c for s in strata for c in s.population]
    pool = []
    for i, (available, fields, recuse_n) in enumerate(pool_spec):
        recused = (
            frozenset(all_codes[(i * 7) % len(all_codes) :][:recuse_n])
            if all_codes
            else frozenset()
        )
        pool.append(Candidate(f"130227{i:05d}", frozenset(fields), recused, available))
    return strata, pool


@settings(max_examples=60, deadline=None)
@given(
    sizes=strata_st,
    pool_spec=pool_st,
    secret=st.binary(min_size=32, max_size=32),
    public=st.text(max_size=20),
    cap=st.integers(1, 8),
)
def test_draw_properties(sizes, pool_spec, secret, public, cap):
    strata, pool = _setup(sizes, pool_spec)
    try:
        rec = run_draw(secret, public, strata, pool, group_size=2, cap=cap, needed_field="劳动关系")
    except DrawError as e:
        assert "名可用执法人员" in str(e)  # the only way a well-formed draw may fail
        return
    out = rec.as_json()
    # determinism, and independence from the order of the inputs
    again = run_draw(
        secret,
        public,
        [StratumInput(s.name, s.ratio, list(reversed(s.population))) for s in reversed(strata)],
        list(reversed(pool)),
        group_size=2,
        cap=cap,
        needed_field="劳动关系",
    ).as_json()
    assert sorted(again["strata"], key=lambda s: s["name"]) == sorted(
        out["strata"], key=lambda s: s["name"]
    )
    assert again["targets"] == out["targets"]
    # exact k per stratum
    for s, given_s in zip(out["strata"], strata, strict=True):
        assert len(s["drawn"]) == algorithm.sample_size(len(given_s.population), given_s.ratio)
    seed = algorithm.seed_of(secret, public)
    for t in out["targets"]:  # the inlined ordering is the definition's
        assert t["eligible"] == sorted(
            t["eligible"], key=lambda c, code=t["code"]: algorithm.inspector_order(seed, code, c)
        )
    by_cert = {c.cert: c for c in pool}
    load: dict[str, int] = {}
    for t in out["targets"]:
        assert len(t["group"]) >= 2
        for cert in t["group"] + t["substitutes"]:
            c = by_cert[cert]
            assert c.available and "劳动关系" in c.fields and t["code"] not in c.recused
        for cert in t["group"]:
            load[cert] = load.get(cert, 0) + 1
    assert all(v <= cap for v in load.values())
    assert verify_record(out) == []


def _record():
    codes = [make("130227", i) for i in range(40)]
    return run_draw(
        SECRET,
        "公开输入",
        [StratumInput("A", "0.1", codes[:20]), StratumInput("C", "0.3", codes[20:])],
        [Candidate(f"J{i}", frozenset({"劳动关系"})) for i in range(6)],
        cap=4,
        needed_field="劳动关系",
    ).as_json()


def _tamper(kind, rec):
    rec = copy.deepcopy(rec)
    if kind == "swapped selected code":
        s = rec["strata"][0]
        outsider = next(c for c in s["population"] if c not in s["drawn"])
        old, s["drawn"][0] = s["drawn"][0], outsider
        for t in rec["targets"]:
            if t["code"] == old:
                t["code"] = outsider
    elif kind == "changed secret":
        rec["secret"] = "00" * 32
    elif kind == "population with one code added":
        rec["strata"][1]["population"] = sorted(
            [*rec["strata"][1]["population"], make("130227", 999)]
        )
    elif kind == "group changed":
        t = rec["targets"][0]
        t["group"][0], t["substitutes"][0] = t["substitutes"][0], t["group"][0]
    return rec


KINDS = [
    "swapped selected code",
    "changed secret",
    "population with one code added",
    "group changed",
]


@pytest.mark.parametrize("kind", KINDS)
def test_the_verifier_catches_a_changed_record(kind):
    rec = _record()
    assert verify_record(rec) == []
    assert verify_record(_tamper(kind, rec)) != []


@pytest.mark.parametrize("kind", [None, *KINDS])
def test_the_standalone_checker_agrees(tmp_path, kind):
    rec = _record() if kind is None else _tamper(kind, _record())
    path = tmp_path / "record.json"
    path.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-I", str(CHECKER), str(path)], capture_output=True, text=True
    )
    out = json.loads(r.stdout)
    assert (r.returncode == 0) == (kind is None) == out["ok"]


def test_too_few_inspectors_names_the_target():
    codes = [make("130227", i) for i in range(5)]
    with pytest.raises(DrawError, match="只有 1 名可用执法人员"):
        run_draw(
            SECRET,
            "",
            [StratumInput("all", "1", codes)],
            [Candidate("J1"), Candidate("J2", available=False)],
        )


def test_overlapping_strata_are_refused():
    with pytest.raises(DrawError, match="同时出现在分层"):
        run_draw(
            SECRET,
            "",
            [StratumInput("A", "1", ["X"]), StratumInput("B", "1", ["X"])],
            [Candidate("J1"), Candidate("J2")],
        )


@given(
    codes=st.lists(st.text(min_size=1, max_size=20), unique=True, max_size=50),
    stratum=st.text(max_size=5),
    k=st.integers(0, 60),
)
def test_fast_ranking_equals_the_definition(codes, stratum, k):
    seed = hashlib.sha256(b"s").digest()
    slow = sorted((algorithm.target_rank(seed, stratum, c), c) for c in codes)[:k]
    assert algorithm.lowest_ranks(seed, stratum, codes, k) == slow
