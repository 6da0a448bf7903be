"""Text that requests may carry, checked where FastAPI parses it (as the CLI checks every
option, workflow/cli/base.py ``_check_params``): ``Line`` — a name, code or search on one line —
and ``Text`` — free text (reasons, notes, conditions) that may hold tabs and line breaks.
Neither may hold a control or invisible direction character (NUL, which PostgreSQL refuses,
bidi overrides that show a name reversed …): such a request is 422 naming the field, before
any application code runs. ``StatedDate``: a date as offices write it (2024-09-27, 2024/9/27,
2024年9月27日, full-width), read by the parser the CLI and the spreadsheets use."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from workflow.core import input_limits, normalize

__all__ = ["Line", "StatedDate", "Text"]


def _checked(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        bad = input_limits.bad_char(value, multiline=multiline)
        if bad:
            raise PydanticCustomError("bad_text", bad)
        return value

    return AfterValidator(check)


Line = Annotated[str, _checked(False)]
Text = Annotated[str, _checked(True)]


def _stated(value: Any) -> Any:
    if isinstance(value, str):
        bad = input_limits.bad_char(value, multiline=False)
        if bad:
            raise PydanticCustomError("bad_text", bad)
        try:
            return normalize.parse_date(value)
        except (ValueError, OverflowError) as e:
            raise PydanticCustomError("stated_date", "{reason}", {"reason": str(e)}) from None
    return value


StatedDate = Annotated[
    datetime.date,
    BeforeValidator(_stated),
    Field(json_schema_extra={"examples": ["2024-09-27", "2024年9月27日"]}),
]
