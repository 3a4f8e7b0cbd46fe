"""The hostile corpus runs its warehouse cases on every conformance target."""

from tests.conformance.conftest import target  # noqa: F401
