"""Linux installers from the onedir build: a ``.tar.gz`` and a ``.deb`` (``dpkg-deb``).

The ``.deb`` puts the bundle in ``/opt/lantern``, a ``/usr/bin/lantern`` link, a desktop
entry and the icon; nothing runs at install or removal (the hicolor and desktop-file
triggers refresh the menus), so ``apt-get remove`` takes away exactly what was installed.
Its ``Depends`` are computed by ``dpkg-shlibdeps`` from the ELF files of the bundle: the
system libraries the bundle does not carry (glibc and the X11/xcb libraries Qt's xcb
platform plugin links to, among others), named as the build machine's distribution names
them. Build on the oldest distribution you support (glibc is only ever forwards-compatible).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
ICONS = ROOT / "resources" / "icons"
PREFIX = "opt/lantern"
MAINTAINER = os.environ.get("LANTERN_MAINTAINER", "Lantern maintainers <lantern@example.org>")
DESCRIPTION = """\
private, offline desktop assistant
 Lantern answers on this computer with small local language models (GGUF files run
 by llama.cpp) and can ground its answers in your own documents. Conversations stay
 in one SQLite file in your home folder; nothing leaves the machine unless you ask.
 .
 The SmolLM2-135M starter model is included, so it works offline on first launch."""

# Always needed but not found by dpkg-shlibdeps: Qt loads these with dlopen (xcb's cursor
# and keyboard helpers, GL) or through plugins it only finds at run time.
EXTRA_DEPENDS = ("libxkbcommon-x11-0", "libxcb-cursor0", "libegl1", "libgl1", "fontconfig")


def tarball(bundle: Path, dist: Path, version: str) -> Path:
    """``lantern-VERSION-linux-ARCH.tar.gz``: the bundle plus its desktop entry and icon."""
    out = dist / f"lantern-{version}-linux-{platform.machine()}.tar.gz"
    top = f"lantern-{version}"

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=owned_by_root)
        tar.add(LINUX / "lantern.desktop", arcname=f"{top}/lantern.desktop", filter=owned_by_root)
        tar.add(ICONS / "lantern.png", arcname=f"{top}/lantern.png", filter=owned_by_root)
    return out


def deb(
    bundle: Path, dist: Path, version: str, compression: str = "xz", work: Path | None = None
) -> Path:
    """``lantern_VERSION_ARCH.deb``, staged in ``work`` (default ``build/deb``)."""
    arch = _run(["dpkg", "--print-architecture"]).strip()
    stage = (work or ROOT / "build" / "deb") / "lantern"
    if stage.exists():
        shutil.rmtree(stage)
    app = stage / PREFIX
    shutil.copytree(bundle, app, symlinks=True)
    _install(LINUX / "lantern.desktop", stage / "usr/share/applications/lantern.desktop")
    _install(ICONS / "lantern-256.png", stage / "usr/share/icons/hicolor/256x256/apps/lantern.png")
    _install(ICONS / "lantern.png", stage / "usr/share/icons/hicolor/512x512/apps/lantern.png")
    _install(LINUX / "copyright", stage / "usr/share/doc/lantern/copyright")
    (stage / "usr/bin").mkdir(parents=True, exist_ok=True)
    os.symlink(f"/{PREFIX}/lantern", stage / "usr/bin/lantern")
    _normalize_modes(stage)

    control = stage / "DEBIAN" / "control"
    control.parent.mkdir(mode=0o755)
    control.write_text(control_text(version, arch, depends(app), _installed_kib(stage)))
    out = dist / f"lantern_{version}_{arch}.deb"
    _run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(stage), str(out)])
    return out


def control_text(version: str, arch: str, depends: str, installed_kib: int) -> str:
    return (
        "Package: lantern\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {depends}\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )


def depends(app: Path) -> str:
    """The ``Depends`` line: ``dpkg-shlibdeps`` over every ELF file, plus ``EXTRA_DEPENDS``."""
    if shutil.which("dpkg-shlibdeps") is None:
        raise SystemExit("dpkg-shlibdeps is missing: apt-get install dpkg-dev")
    elves = [p for p in sorted(app.rglob("*")) if _is_elf(p)]
    libdirs = sorted({str(p.parent) for p in elves})
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "debian").mkdir()
        (Path(tmp) / "debian" / "control").write_text(
            "Source: lantern\n\nPackage: lantern\nArchitecture: any\n"
        )
        found = _run(
            ["dpkg-shlibdeps", "-O", "--ignore-missing-info", "--warnings=1"]
            + [f"-l{d}" for d in libdirs]
            + ["-e" + str(p) for p in elves],
            cwd=Path(tmp),
        )
    line = next((x for x in found.splitlines() if x.startswith("shlibs:Depends=")), "")
    return merge_depends(line.removeprefix("shlibs:Depends="), EXTRA_DEPENDS)


def merge_depends(found: str, extra: tuple[str, ...]) -> str:
    """``found`` (dpkg-shlibdeps' comma list) plus the ``extra`` packages it lacks, sorted."""
    items = [x.strip() for x in found.split(",") if x.strip()]
    names = {re.split(r"[\s(|]", x, maxsplit=1)[0] for x in items}
    items += [x for x in extra if x not in names]
    return ", ".join(sorted(items))


def _is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def _install(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _normalize_modes(stage: Path) -> None:
    """0755 for folders and executables, 0644 for the rest (whatever the build's umask)."""
    for path in [stage, *stage.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir() or os.stat(path).st_mode & 0o111:
            os.chmod(path, 0o755)
        else:
            os.chmod(path, 0o644)


def _installed_kib(stage: Path) -> int:
    total = sum(p.lstat().st_size for p in stage.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout
