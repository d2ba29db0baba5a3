"""``python -m tests.browser.screenshots``: refreshes docs/screenshots/ (queue, board, ticket).

It runs the browser test that fills the screens with demo-like data, with
``KEFU_SCREENSHOTS`` pointing at docs/screenshots (the test keeps its images in a
temporary folder otherwise). Needs the same services as the browser tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/browser/test_live_screens.py::test_screens_in_chinese_and_screenshots"


def main() -> int:
    os.environ.setdefault("KEFU_SCREENSHOTS", str(ROOT / "docs" / "screenshots"))
    return int(pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / TEST)]))


if __name__ == "__main__":
    sys.exit(main())
