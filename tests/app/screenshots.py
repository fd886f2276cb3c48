"""Regenerates docs/app-light.png and docs/app-dark.png: the health board of the demo, through the test host.

    python -m tests.app.screenshots [--width 1000] [--out docs]

Needs what the browser tests need (node, chromium, ``npm ci`` in tests/app).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.app import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1000, help="page width in CSS pixels")
    parser.add_argument(
        "--out", type=Path, default=harness.REPO / "docs", help="folder for app-light.png, app-dark.png"
    )
    args = parser.parse_args(argv)
    why = harness.missing()
    if why:
        print(f"cannot take screenshots: {why}", file=sys.stderr)
        return 1
    out = args.out.resolve()
    with tempfile.TemporaryDirectory() as folder, harness.serve(Path(folder), access="full") as served:
        done = harness.node("shots.mjs", str(out), str(args.width), served=served)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
