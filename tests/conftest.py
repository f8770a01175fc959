"""Shared test configuration.

Hypothesis profiles (``HYPOTHESIS_PROFILE``): ``ci`` (the default) runs 300 examples per
property, derandomized so that every CI run checks the same examples and a red build is
reproducible; ``explore`` runs 2000 random examples to hunt for new failures; ``dev`` a
quick 50. Async tests use anyio's pytest plugin on asyncio: mark them
``@pytest.mark.anyio``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
