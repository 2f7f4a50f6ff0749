"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS).

Random slugs and ids almost never name an existing object, so only the 404 paths would
be fuzzed. Half of the generated cases use instead the identifiers of the objects the
test created (FUZZ_KNOWN_PARAMETERS, a JSON object of path parameter name to value).
"""
from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

KNOWN: dict[str, Any] = json.loads(os.environ.get("FUZZ_KNOWN_PARAMETERS", "{}"))


@schemathesis.hook
def flatmap_path_parameters(context: schemathesis.HookContext,
                            path_parameters: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any] | None]:
    known = {name: KNOWN[name] for name in path_parameters or () if name in KNOWN}
    if not known:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **known}])  # type: ignore[dict-item]
