"""The macOS disk image: Lantern.app next to a link to /Applications, made by ``hdiutil``."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dmg(app: Path, dist: Path, version: str) -> Path:
    """``Lantern-VERSION-macos-ARCH.dmg`` (compressed, read-only) holding ``app``."""
    out = dist / f"Lantern-{version}-macos-{platform.machine()}.dmg"
    stage = ROOT / "build" / "dmg"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / app.name, symlinks=True)  # keeps the bundle's signature
    os.symlink("/Applications", stage / "Applications")
    out.unlink(missing_ok=True)
    subprocess.run(
        [
            "hdiutil", "create",
            "-volname", f"Lantern {version}",
            "-srcfolder", str(stage),
            "-fs", "HFS+",
            "-format", "UDZO",
            "-ov",
            str(out),
        ],
        check=True,
    )  # fmt: skip
    return out
