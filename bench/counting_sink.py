"""An aiosmtpd handler for bench/sweep.py: accepts and discards mail, keeping a count in a file
(the server runs in its own process; the benchmark reads the count when it is done)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Counter:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.path.write_text(str(self.count))
        return "250 OK"

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> Counter:
        if len(args) != 1:
            parser.error("Counter takes one argument: the count file")
        return cls(args[0])
