"""Writes the nginx configuration of deploy/nginx.conf with the ``${KEFU_...}`` values of the
environment (deploy/env.example names them) and prints the path it wrote, for
``nginx -c "$(python deploy/render_nginx.py)"`` (the ``proxy`` line of deploy/Procfile).

Paths (the deploy directory, the static files, the certificate and its key) are made absolute
against the repository, since nginx resolves relative ones against its own prefix. A name
that is not set stops it with a message; nginx's own variables (``$host``) are left alone.

``python deploy/render_nginx.py [OUT]``: OUT defaults to ``$KEFU_DEPLOY_DIR/nginx.conf``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PATHS = {"KEFU_DEPLOY_DIR", "KEFU_STATIC_ROOT", "KEFU_TLS_CERT", "KEFU_TLS_KEY"}
# project/settings.py's own defaults, so that nginx serves what collectstatic wrote.
DEFAULTS = {"KEFU_STATIC_ROOT": "staticfiles", "KEFU_PROXY_ADDRESS": "127.0.0.1"}
PLACEHOLDER = re.compile(r"\$\{(KEFU_[A-Z0-9_]+)\}")


def render(template: str, environ: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = environ.get(name) or DEFAULTS.get(name)
        if not raw:
            raise SystemExit(f"render_nginx: {name} is not set (see deploy/env.example)")
        return str((ROOT / raw).resolve()) if name in PATHS else raw

    return PLACEHOLDER.sub(value, template)


def main(argv: list[str]) -> int:
    target = (
        Path(argv[1])
        if len(argv) > 1
        else Path(os.environ.get("KEFU_DEPLOY_DIR") or "var/deploy") / "nginx.conf"
    )
    target = (ROOT / target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(TEMPLATE.read_text(), os.environ))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
