#!/usr/bin/env python3
"""Check a published ssj draw record (algorithm ssj-draw-v1) with the Python standard library only.

    python3 verify_draw.py RECORD.json

Recomputes, from the record alone: the commitment from the revealed secret; each stratum's
population digest, k and drawn codes; the order in which targets get inspectors; and for each
target the order of its eligible inspectors, its group and its substitutes. Exit 0 when every
figure matches, 1 with the list of differences otherwise.
"""

import hashlib
import json
import sys
from decimal import Decimal
from fractions import Fraction


def sha(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def main(path):
    with open(path, "rb") as f:
        # exact decimals: 1e400 stays a number that the checks below refuse, not infinity
        rec = json.loads(f.read().decode("utf-8"), parse_float=Decimal)
    if not isinstance(rec, dict):
        return ["the record is not a JSON object"]
    for key in ("group_size", "cap"):
        if type(rec.get(key)) is not int or not 1 <= rec[key] <= 1_000_000:
            return [f"{key} must be an integer from 1 to 1000000, found {rec.get(key)!r}"]
    try:
        return check(rec)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, RecursionError) as e:
        return [f"the record is malformed ({type(e).__name__}: {e})"]


def check(rec):
    bad = []
    if rec["algorithm"] != "ssj-draw-v1":
        return [f"unknown algorithm {rec['algorithm']!r}"]
    secret = bytes.fromhex(rec["secret"])
    if sha(secret).hex() != rec["commitment"]:
        bad.append("SHA-256(secret) is not the published commitment")
    seed = sha(secret, rec["public_input"].encode("utf-8"))
    ranked = []
    for s in rec["strata"]:
        pop = s["population"]
        if hashlib.sha256("\n".join(sorted(pop)).encode("utf-8")).hexdigest() != s["population_digest"]:
            bad.append(f"stratum {s['name']}: population digest differs")
        n = len(pop)
        exact = n * Fraction(Decimal(s["ratio"]))
        k = 0 if n == 0 else max(1, -(-exact.numerator // exact.denominator))
        if k != s["k"]:
            bad.append(f"stratum {s['name']}: k should be {k}")
        ranks = sorted(
            (sha(seed, b"target\x00", s["name"].encode("utf-8"), b"\x00", c.encode("utf-8")), c)
            for c in pop
        )[:k]
        if [c for _, c in ranks] != s["drawn"]:
            bad.append(f"stratum {s['name']}: drawn codes differ")
        ranked.extend(ranks)
    ranked.sort()
    if [c for _, c in ranked] != [t["code"] for t in rec["targets"]]:
        return bad + ["targets differ from the recomputed draw"]
    g, cap, load = rec["group_size"], rec["cap"], {}
    if g < 2:
        bad.append("groups must have at least 2 inspectors")
    for t in rec["targets"]:
        code = t["code"].encode("utf-8")
        order = sorted(t["eligible"], key=lambda c: sha(seed, b"inspector\x00", code, b"\x00", c.encode("utf-8")))
        group = []
        for c in order:
            if len(group) < g and load.get(c, 0) < cap:
                group.append(c)
                load[c] = load.get(c, 0) + 1
        if order != t["eligible"]:
            bad.append(f"target {t['code']}: eligible inspectors are not in draw order")
        if group != t["group"] or len(group) < g:
            bad.append(f"target {t['code']}: group differs")
        if [c for c in order if c not in group] != t["substitutes"]:
            bad.append(f"target {t['code']}: substitutes differ")
    return bad


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    try:
        problems = main(sys.argv[1])
    except OSError as e:
        print(f"cannot read {sys.argv[1]}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    except (ValueError, RecursionError) as e:  # not UTF-8, not JSON, nested too deep
        print(f"{sys.argv[1]} is not a JSON draw record ({type(e).__name__}: {e})", file=sys.stderr)
        sys.exit(2)
    print(json.dumps({"ok": not problems, "problems": problems}, ensure_ascii=False))
    sys.exit(1 if problems else 0)
