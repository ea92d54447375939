"""Check that the built wheel carries one bundle per widget entry point in js/src/."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(dist: str) -> int:
    wheels = sorted(Path(dist).glob("errlens-*.whl"))
    if not wheels:
        print(f"no errlens wheel in {dist}/", file=sys.stderr)
        return 1
    names = set(zipfile.ZipFile(wheels[-1]).namelist())
    widgets = [p.parent.name for p in (ROOT / "js" / "src").glob("*/index.js")]
    missing = [f"errlens/static/{w}.js" for w in widgets if f"errlens/static/{w}.js" not in names]
    if missing:
        print(f"{wheels[-1].name} lacks {missing}: the front-end build hook did not run",
              file=sys.stderr)
        return 1
    print(f"{wheels[-1].name} carries the bundles of {', '.join(sorted(widgets))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
