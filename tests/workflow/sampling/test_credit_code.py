from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflow.sampling import credit_code


def test_known_codes():
    assert credit_code.is_valid("91350100M000100Y43")
    assert not credit_code.is_valid("91350100M000100Y44")
    assert not credit_code.is_valid("91350100M000100Y4")
    assert not credit_code.is_valid("91350100I000100Y43")  # I is not in the charset


@given(region=st.sampled_from(["130227", "130132", "410421"]), serial=st.integers(0, 10**9))
def test_made_codes_are_valid_and_one_changed_character_is_not(region, serial):
    c = credit_code.make(region, serial)
    assert credit_code.is_valid(c) and c.startswith("91" + region)
    bad = c[:10] + ("0" if c[10] != "0" else "1") + c[11:]
    assert not credit_code.is_valid(bad)
