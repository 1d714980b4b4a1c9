"""The Windows installer: packaging/windows/lantern.nsi compiled with ``makensis``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from windows_version import version_tuple

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "packaging" / "windows" / "lantern.nsi"
ICON = ROOT / "resources" / "icons" / "lantern.ico"


def makensis() -> str:
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        candidate = Path(base or "/nonexistent") / "NSIS" / "makensis.exe"
        if candidate.is_file():
            return str(candidate)
    raise SystemExit("makensis is missing: install NSIS (Debian: apt-get install nsis)")


def nsis(bundle: Path, dist: Path, version: str, fast: bool = False) -> Path:
    """Compile the installer for ``bundle``; ``fast`` uses zlib (a quick check build)."""
    out = dist / f"Lantern-{version}-windows-x64-setup.exe"
    numeric = ".".join(str(n) for n in version_tuple(version))
    cmd = [
        makensis(),
        "-V2",
        "-WX",  # warnings are errors: an unused or misspelled define fails the build
        f"-DVERSION={version}",
        f"-DVERSION_NUMERIC={numeric}",
        f"-DSOURCE_DIR={bundle}",
        f"-DOUTFILE={out}",
        f"-DICON={ICON}",
    ]
    if fast:
        cmd.append("-DFAST")
    cmd.append(str(SCRIPT))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"makensis failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return out
