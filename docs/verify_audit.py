#!/usr/bin/env python3
"""Check an exported ssj audit log (``ssj audit export FILE``) with the Python standard library only.

    python3 verify_audit.py LOG.jsonl [CHECKPOINT.json]

Each line is one event with its ``prev_hash`` and ``hash``; the chain is

    hash = SHA-256(bytes.fromhex(prev_hash) || canonical_json(event))

where ``event`` holds exactly the keys seq, time, actor, role, task_id, kind, from_state,
to_state, reason, payload; canonical JSON = sorted keys, separators "," and ":", no ASCII
escaping, UTF-8; the first event's prev_hash is 64 zeros. Exit 0 when intact (and, with a
checkpoint, when the log still extends it), 1 otherwise, naming the first bad seq (a file with
no events fails; without a checkpoint nothing proves the log was not cut short at its end),
2 when a file cannot be read.
"""

import hashlib
import json
import sys

KEYS = ("seq", "time", "actor", "role", "task_id", "kind", "from_state", "to_state", "reason", "payload")


def canonical(value):
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def fail(seq, reason):
    print(json.dumps({"ok": False, "first_bad_seq": seq, "reason": reason}, ensure_ascii=False))
    return 1


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    checkpoint = None
    if len(argv) == 3:
        try:
            with open(argv[2], encoding="utf-8") as f:
                checkpoint = json.load(f)
            if not isinstance(checkpoint.get("seq"), int) or not isinstance(checkpoint.get("hash"), str):
                raise ValueError("needs an integer seq and a hash")
        except (OSError, ValueError, RecursionError, AttributeError) as e:
            print(f"cannot read the checkpoint {argv[2]}: {e}", file=sys.stderr)
            return 2
    prev, expected, reached = "0" * 64, 1, checkpoint is None or checkpoint["seq"] == 0
    try:
        f = open(argv[1], "rb")
    except OSError as e:
        print(f"cannot read {argv[1]}: {e.strerror}", file=sys.stderr)
        return 2
    with f:
        line_no = 0
        while True:
            raw = f.readline(64 * 1024 * 1024 + 1)  # bounded: a file without line breaks
            if not raw:
                break
            line_no += 1
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
                event = {k: rec[k] for k in KEYS}
                bad = None
                if rec["seq"] != expected:
                    bad = f"expected seq {expected}, found {rec['seq']}"
                elif rec["prev_hash"] != prev:
                    bad = "prev_hash does not match the previous event"
                else:
                    digest = hashlib.sha256(bytes.fromhex(prev) + canonical(event)).hexdigest()
                    if digest != rec["hash"]:
                        bad = "content does not match its hash"
                    elif checkpoint and rec["seq"] == checkpoint["seq"] and digest != checkpoint["hash"]:
                        bad = "the log no longer extends the checkpoint"
            except (ValueError, KeyError, TypeError, RecursionError) as e:
                # not UTF-8, not JSON, nested too deep, 1e400 (inf), a key missing: not an event
                bad = f"line {line_no} is not a valid event ({type(e).__name__}: {e})"
            if bad:
                return fail(expected, bad)
            if checkpoint and rec["seq"] == checkpoint["seq"]:
                reached = True
            prev, expected = rec["hash"], expected + 1
    if expected == 1:
        return fail(1, "the file holds no events")
    if not reached:
        return fail(expected, "log is shorter than the checkpoint")
    out = {"ok": True, "events": expected - 1, "head_hash": prev}
    if checkpoint is None:
        out["note"] = "no checkpoint given: nothing pins the log's length, a log cut short verifies too"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
