"""An extractor whose vendor SDK is an optional dependency, imported only when the extractor runs."""

from __future__ import annotations

import toy_vendor_sdk  # type: ignore[import-not-found]  # not installed: Headrace says what to install

from headrace_toy.extractor import ToyExtractor


class RemoteExtractor(ToyExtractor):
    client = toy_vendor_sdk
