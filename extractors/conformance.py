"""The built-in extractors, typed by the ``Extractor`` protocol they implement.

Assigning each implementation to ``ExtractorFactory`` makes the type checker
(tests/test_code_quality.py) prove that its constructor takes ``(config, context)`` and that
its ``extract`` matches the protocol. The run time finds extractors through the plugin
registry, not through this table; tests check the two agree.
"""

from __future__ import annotations

from headrace.components.extractor import ExtractorFactory
from headrace.extractors.files.extractor import Extractor as FileExtractor
from headrace.extractors.postgres.extractor import Extractor as PostgresExtractor

BUILT_IN: dict[str, ExtractorFactory] = {
    "file": FileExtractor,
    "postgres": PostgresExtractor,
}
