"""Text that requests may carry, checked where FastAPI parses it (as the CLI checks every
option, workflow/cli/base.py ``_check_params``): ``Line`` — a name, code or search on one line —
and ``Text`` — free text (reasons, notes, conditions) that may hold tabs and line breaks.
Neither may hold a control or invisible direction character (NUL, which PostgreSQL refuses,
bidi overrides that show a name reversed …): such a request is 422 naming the field, before
any application code runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from workflow.core import input_limits

__all__ = ["Line", "Text"]


def _checked(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        bad = input_limits.bad_char(value, multiline=multiline)
        if bad:
            raise PydanticCustomError("bad_text", bad)
        return value

    return AfterValidator(check)


Line = Annotated[str, _checked(False)]
Text = Annotated[str, _checked(True)]
