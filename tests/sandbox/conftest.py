"""Fixtures shared by the sandbox tests (the project-wide ones are in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.kube_api_support import core_v1
from wizard.sandbox import Sandbox


@pytest.fixture
def v1(sandbox: Sandbox) -> Any:
    """The kubernetes client's CoreV1Api for the session sandbox's aks-platform cluster (OIDC + WI on)."""
    return core_v1(sandbox)
