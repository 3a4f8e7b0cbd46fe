"""PostgreSQL source: tables or queries streamed with COPY into the table file contract."""

from headrace.components.extractor import ExtractorCapabilities
from headrace.extractors.postgres.config import PostgresExtractorConfig
from headrace.plugins import Plugin

plugin = Plugin(
    "extractor",
    "postgres",
    PostgresExtractorConfig,
    "headrace.extractors.postgres.extractor:Extractor",
    ExtractorCapabilities(part_formats=("csv.gz", "csv.zst", "csv", "pgcopy", "pgcopy.zst")),
    description="PostgreSQL tables or queries with COPY; incremental with a cursor, upsert",
    extra="postgres",
    requires=("psycopg",),
)
