"""Plugin records of the toy package: only config models and import paths, no implementation imports."""

from __future__ import annotations

from headrace.plugins import Plugin

from headrace_toy.config import CAPABILITIES, ToyExtractorConfig, ToyStorageConfig

extractor_plugin = Plugin(
    "extractor",
    "toy",
    ToyExtractorConfig,
    "headrace_toy.extractor:ToyExtractor",
    description="a deterministic number sequence (toy)",
)

storage_plugin = Plugin(
    "storage",
    "toy",
    ToyStorageConfig,
    "headrace_toy.storage:ToyStorage",
    CAPABILITIES,
    description="objects in one folder under hashed names (toy)",
)
