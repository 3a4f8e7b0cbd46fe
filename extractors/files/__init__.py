"""CSV and JSON Lines files from a local path or an http(s) URL, optionally gzip or zip."""

from headrace.components.extractor import ExtractorCapabilities
from headrace.extractors.files.config import FileExtractorConfig
from headrace.plugins import Plugin

plugin = Plugin(
    "extractor",
    "file",
    FileExtractorConfig,
    "headrace.extractors.files.extractor:Extractor",
    ExtractorCapabilities(part_formats=("csv.gz", "csv.zst", "csv")),  # DuckDB's COPY TO writes each
    description="CSV and JSON Lines files (local or http), gzip or zip",
)
