"""Fixtures of the hostile-input tests: the conformance warehouses and a project in a git remote."""

from tests.conformance.conftest import target
from tests.orchestrator.support import project_remote

__all__ = ["project_remote", "target"]
