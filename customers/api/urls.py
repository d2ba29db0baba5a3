"""The customers API (docs/customers.md; API.md names the resources)."""

from __future__ import annotations

from . import (
    urls_imports,
    urls_merge,
    urls_privacy,
    urls_records,
    urls_segments,
    urls_timeline,
)

urlpatterns = [
    *urls_records.urlpatterns,
    *urls_timeline.urlpatterns,
    *urls_merge.urlpatterns,
    *urls_segments.urlpatterns,
    *urls_imports.urlpatterns,
    *urls_privacy.urlpatterns,
]
