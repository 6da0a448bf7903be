"""The double-random draw, algorithm ``ssj-draw-v1`` (DESIGN §6), byte for byte.

Pure: no database. ``run_draw`` turns a secret, the public input, the strata (each an eligible
population fixed before the draw) and the inspector pool into the published draw record;
``verify_record`` recomputes everything from that record alone. docs/verify_draw.py is an
independent, standard-library-only implementation of the same checks for the public.

    commitment       = hex(SHA-256(secret))                        published before the draw
    population_digest= hex(SHA-256(UTF-8("\\n".join(sorted(codes)))))
    seed             = SHA-256(secret ‖ UTF-8(public_input))
    rank(code)       = SHA-256(seed ‖ b"target" ‖ 0x00 ‖ UTF-8(stratum) ‖ 0x00 ‖ UTF-8(code))
    k                = 0 if N == 0 else max(1, ceil(N × ratio))     ratio an exact decimal
    order(target, i) = SHA-256(seed ‖ b"inspector" ‖ 0x00 ‖ UTF-8(target) ‖ 0x00 ‖ UTF-8(cert))
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

ALGORITHM = "ssj-draw-v1"


class DrawError(ValueError):
    """The draw cannot be made as asked; the message says which stratum or target and why."""


def new_secret() -> bytes:
    return os.urandom(32)


def commitment_of(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()


def population_digest(codes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(codes)).encode("utf-8")).hexdigest()


def seed_of(secret: bytes, public_input: str) -> bytes:
    return hashlib.sha256(secret + public_input.encode("utf-8")).digest()


def parse_ratio(ratio: str) -> Fraction:
    """An exact decimal ratio in (0, 1]: "0.05" (a percent sign is not part of the record)."""
    from workflow.core.normalize import exact_ratio

    try:
        return exact_ratio(ratio)
    except ValueError as e:
        raise DrawError(str(e)) from None


def sample_size(n: int, ratio: str) -> int:
    """k = 0 if N == 0 else max(1, ceil(N × ratio)), computed exactly (seed 004: under 1 draws 1)."""
    if n == 0:
        return 0
    exact = n * parse_ratio(ratio)
    return max(1, -(-exact.numerator // exact.denominator))


def target_rank(seed: bytes, stratum: str, code: str) -> bytes:
    return hashlib.sha256(
        seed + b"target\x00" + stratum.encode("utf-8") + b"\x00" + code.encode("utf-8")
    ).digest()


def lowest_ranks(
    seed: bytes, stratum: str, codes: Iterable[str], k: int
) -> list[tuple[bytes, str]]:
    """The k (rank, code) pairs with the lowest ranks, ascending: exactly
    ``sorted((target_rank(seed, stratum, c), c) for c in codes)[:k]``, but fast at province scale.

    Ranks are SHA-256 digests, so uniform: keep only those below a threshold that should admit
    about 1.2·k + 64 of them, sort that handful, and fall back to a full sort in the rare case
    that fewer than k passed. The result is the same either way; only the work differs.
    """
    if k == 0:
        return []
    sha = hashlib.sha256
    prefix = seed + b"target\x00" + stratum.encode("utf-8") + b"\x00"
    ranked = [(sha(prefix + c.encode("utf-8")).digest(), c) for c in codes]
    n = len(ranked)
    if k * 4 < n:
        limit = min(2**64, (k * 12 // 10 + 64) * 2**64 // n).to_bytes(9, "big")[1:]
        few = [r for r in ranked if r[0][:8] < limit]
        if len(few) >= k:
            few.sort()
            return few[:k]
    ranked.sort()
    return ranked[:k]


def inspector_order(seed: bytes, target: str, cert: str) -> bytes:
    return hashlib.sha256(
        seed + b"inspector\x00" + target.encode("utf-8") + b"\x00" + cert.encode("utf-8")
    ).digest()


@dataclass(frozen=True)
class StratumInput:
    name: str  # the grade ("A".."D") or "all" for an undirected task
    ratio: str
    population: Sequence[str]  # eligible codes, after the eligibility rules
    exclusions: Sequence[tuple[str, str]] = ()  # (code, reason) left out before the draw


@dataclass(frozen=True)
class Candidate:
    cert: str
    fields: frozenset[str] = frozenset()
    recused: frozenset[str] = frozenset()  # target codes this inspector must not inspect
    available: bool = True


@dataclass
class DrawRecord:
    commitment: str
    public_input: str
    secret: str
    group_size: int
    cap: int
    field: str | None
    # dataclasses.field: the attribute ``field`` above shadows the bare name in this class body.
    strata: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    targets: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "commitment": self.commitment,
            "public_input": self.public_input,
            "secret": self.secret,
            "group_size": self.group_size,
            "cap": self.cap,
            "field": self.field,
            "strata": self.strata,
            "targets": self.targets,
        }


def _assign(
    seed: bytes, ranked: list[tuple[bytes, str]], eligible: dict[str, list[str]], g: int, cap: int
) -> list[dict[str, Any]]:
    """Groups in ascending rank order of the targets; each assignment adds 1 to the load."""
    load: dict[str, int] = {}
    out = []
    sha = hashlib.sha256
    for _, code in ranked:
        prefix = seed + b"inspector\x00" + code.encode("utf-8") + b"\x00"
        # inspector_order(seed, code, cert), inlined: this loop runs targets × inspectors times
        keyed = sorted([(sha(prefix + c.encode("utf-8")).digest(), c) for c in eligible[code]])
        ordered = [c for _, c in keyed]
        group: list[str] = []
        for cert in ordered:
            if len(group) < g and load.get(cert, 0) < cap:
                group.append(cert)
                load[cert] = load.get(cert, 0) + 1
        if len(group) < g:
            raise DrawError(
                f"检查对象 {code} 只有 {len(group)} 名可用执法人员（需要 {g} 名；符合条件 "
                f"{len(ordered)} 名，每人在本任务最多 {cap} 户）：请补充执法人员名录或调高上限"
            )
        out.append(
            {
                "code": code,
                "eligible": ordered,
                "group": group,
                "substitutes": [c for c in ordered if c not in group],
            }
        )
    return out


def run_draw(
    secret: bytes,
    public_input: str,
    strata: Sequence[StratumInput],
    pool: Sequence[Candidate],
    *,
    group_size: int = 2,
    cap: int = 10,
    needed_field: str | None = None,
) -> DrawRecord:
    if len(secret) != 32:
        raise DrawError("secret 必须是 32 字节")
    if group_size < 2:
        raise DrawError(f"检查组人数 {group_size} 少于 2 人（来源文件 001、003、004）")
    if cap < 1:
        raise DrawError(f"每名执法人员的任务上限 {cap} 必须至少为 1")
    names = [s.name for s in strata]
    if len(set(names)) != len(names) or not names:
        raise DrawError(f"分层名称必须非空且互不相同：{names}")
    seen: dict[str, str] = {}
    for s in strata:
        if len(set(s.population)) != len(s.population):
            raise DrawError(f"分层 {s.name} 的名录中有重复代码")
        for code in s.population:
            if code in seen:
                raise DrawError(f"代码 {code} 同时出现在分层 {seen[code]} 和 {s.name} 中")
            seen[code] = s.name
    certs = [c.cert for c in pool]
    if len(set(certs)) != len(certs):
        raise DrawError("执法人员名录中有重复的执法证号")
    seed = seed_of(secret, public_input)
    record = DrawRecord(
        commitment=commitment_of(secret),
        public_input=public_input,
        secret=secret.hex(),
        group_size=group_size,
        cap=cap,
        field=needed_field,
    )
    ranked: list[tuple[bytes, str]] = []
    for s in strata:
        k = sample_size(len(s.population), s.ratio)
        ranks = lowest_ranks(seed, s.name, s.population, k)
        ranked.extend(ranks)
        population = sorted(s.population)
        record.strata.append(
            {
                "name": s.name,
                "ratio": s.ratio,
                "population": population,
                # population_digest(), on the list already sorted
                "population_digest": hashlib.sha256(
                    "\n".join(population).encode("utf-8")
                ).hexdigest(),
                "exclusions": [{"code": c, "reason": r} for c, r in s.exclusions],
                "k": k,
                "drawn": [c for _, c in ranks],
            }
        )
    ranked.sort()
    # Field and availability are the same for every target; only recusal differs per target.
    base = [c for c in pool if c.available and (needed_field is None or needed_field in c.fields)]
    eligible = {code: [c.cert for c in base if code not in c.recused] for _, code in ranked}
    record.targets = _assign(seed, ranked, eligible, group_size, cap)
    return record


def verify_record(record: dict[str, Any]) -> list[str]:  # noqa: C901 (the verifier: one independent check per field of the record)
    """Recompute the draw from the record alone; returns the problems found (empty: verified)."""
    problems: list[str] = []
    try:
        if record.get("algorithm") != ALGORITHM:
            return [f"算法 {record.get('algorithm')!r} 不是 {ALGORITHM}"]
        secret = bytes.fromhex(record["secret"])
        if commitment_of(secret) != record["commitment"]:
            problems.append("secret 的 SHA-256 与事先公布的承诺值 commitment 不符")
        seed = seed_of(secret, record["public_input"])
        ranked: list[tuple[bytes, str]] = []
        for s in record["strata"]:
            name, pop = s["name"], s["population"]
            if pop != sorted(pop):
                problems.append(f"分层 {name}：population 未按代码排序")
            if population_digest(pop) != s["population_digest"]:
                problems.append(f"分层 {name}：population_digest 与名录不符（名录被改动）")
            excluded = {e["code"] for e in s["exclusions"]}
            if excluded & set(pop):
                problems.append(f"分层 {name}：被排除的代码又出现在名录中")
            k = sample_size(len(pop), s["ratio"])
            if s.get("k") != k:
                problems.append(f"分层 {name}：k 应为 {k}，记录为 {s.get('k')}")
            ranks = lowest_ranks(seed, name, pop, k)
            if [c for _, c in ranks] != s["drawn"]:
                problems.append(f"分层 {name}：抽中的对象与重算结果不符")
            ranked.extend(ranks)
        ranked.sort()
        codes = [t["code"] for t in record["targets"]]
        if codes != [c for _, c in ranked]:
            problems.append("检查对象的顺序或集合与重算结果不符")
            return problems
        eligible = {t["code"]: list(t["eligible"]) for t in record["targets"]}
        for key in ("group_size", "cap"):
            v = record[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1_000_000:
                return [*problems, f"{key} 应为 1 到 1000000 之间的整数，记录为 {v!r}"]
        try:
            expected = _assign(
                seed, ranked, eligible, int(record["group_size"]), int(record["cap"])
            )
        except DrawError as e:
            return [*problems, f"检查组无法按记录重算：{e}"]
        if int(record["group_size"]) < 2:
            problems.append("检查组人数少于 2 人")
        for got, want in zip(record["targets"], expected, strict=True):
            for key, label in (
                ("eligible", "符合条件人员顺序"),
                ("group", "检查组"),
                ("substitutes", "递补人员"),
            ):
                if got[key] != want[key]:
                    problems.append(f"检查对象 {got['code']}：{label}与重算结果不符")
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as e:
        # A hand-edited or hostile record: any shape it takes ends here, as a problem found.
        problems.append(f"抽取记录格式无效：{e!r}")
    return problems
