"""The package's public face: ``__all__`` is exactly its public names (STYLE §1)."""

from __future__ import annotations

import inspect

import web


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(web).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(web.__all__) == public
    assert sorted(web.__all__) == list(web.__all__)
    assert {"create_app", "serve", "app_from_environment"} <= public
