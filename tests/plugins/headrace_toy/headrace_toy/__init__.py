"""Plugin records of the toy package: only config models and import paths, no implementation imports."""

from __future__ import annotations

from headrace.plugins import Plugin

from headrace_toy.config import CAPABILITIES, ToyExtractorConfig, ToyRemoteConfig, ToyStorageConfig

extractor_plugin = Plugin(
    "extractor",
    "toy",
    ToyExtractorConfig,
    "headrace_toy.extractor:ToyExtractor",
    description="a deterministic number sequence (toy)",
)

# its implementation needs a vendor SDK this package does not install (a missing optional dependency)
remote_plugin = Plugin(
    "extractor",
    "toy_remote",
    ToyRemoteConfig,
    "headrace_toy.remote:RemoteExtractor",
    description="numbers from a remote service through its vendor SDK (toy)",
    requires=("toy_vendor_sdk",),
)

storage_plugin = Plugin(
    "storage",
    "toy",
    ToyStorageConfig,
    "headrace_toy.storage:ToyStorage",
    CAPABILITIES,
    description="objects in one folder under hashed names (toy)",
)
