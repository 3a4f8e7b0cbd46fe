from tests.conformance.conftest import target  # noqa: F401
