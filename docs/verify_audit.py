#!/usr/bin/env python3
"""Check an exported ssj audit log (``ssj audit export FILE``) with the Python standard library only.

    python3 verify_audit.py LOG.jsonl [CHECKPOINT.json]

Each line is one event with its ``prev_hash`` and ``hash``; the chain is

    hash = SHA-256(bytes.fromhex(prev_hash) || canonical_json(event))

where ``event`` holds exactly the keys seq, time, actor, role, task_id, kind, from_state,
to_state, reason, payload; canonical JSON = sorted keys, separators "," and ":", no ASCII
escaping, UTF-8; the first event's prev_hash is 64 zeros. Exit 0 when intact (and, with a
checkpoint, when the log still extends it), 1 otherwise, naming the first bad seq.
"""

import hashlib
import json
import sys

KEYS = ("seq", "time", "actor", "role", "task_id", "kind", "from_state", "to_state", "reason", "payload")


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    checkpoint = None
    if len(argv) == 3:
        with open(argv[2], encoding="utf-8") as f:
            checkpoint = json.load(f)
    prev, expected, reached = "0" * 64, 1, checkpoint is None or checkpoint["seq"] == 0
    with open(argv[1], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            bad = None
            if rec["seq"] != expected:
                bad = (expected, f"expected seq {expected}, found {rec['seq']}")
            elif rec["prev_hash"] != prev:
                bad = (expected, "prev_hash does not match the previous event")
            else:
                digest = hashlib.sha256(bytes.fromhex(prev) + canonical({k: rec[k] for k in KEYS})).hexdigest()
                if digest != rec["hash"]:
                    bad = (expected, "content does not match its hash")
                elif checkpoint and rec["seq"] == checkpoint["seq"] and digest != checkpoint["hash"]:
                    bad = (expected, "the log no longer extends the checkpoint")
            if bad:
                print(json.dumps({"ok": False, "first_bad_seq": bad[0], "reason": bad[1]}))
                return 1
            if checkpoint and rec["seq"] == checkpoint["seq"]:
                reached = True
            prev, expected = rec["hash"], expected + 1
    if not reached:
        print(json.dumps({"ok": False, "first_bad_seq": expected, "reason": "log is shorter than the checkpoint"}))
        return 1
    print(json.dumps({"ok": True, "events": expected - 1, "head_hash": prev}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
