"""The Windows version resource of Lantern.exe and lantern-cli.exe (File > Properties)."""

from __future__ import annotations

import re
from pathlib import Path


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """``"0.1.0"`` -> ``(0, 1, 0, 0)``; a suffix such as ``rc1`` or ``.dev2`` is dropped."""
    numbers: list[int] = []
    for part in version.split(".")[:4]:
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.end() < len(part):  # "3rc1": the numbers stop here
            break
    a, b, c, d = [*numbers, 0, 0, 0, 0][:4]
    return a, b, c, d


def write_version_file(target: Path, version: str) -> Path:
    """Write PyInstaller's version-file text for ``version`` to ``target``."""
    from PyInstaller.utils.win32.versioninfo import (
        FixedFileInfo,
        StringFileInfo,
        StringStruct,
        StringTable,
        VarFileInfo,
        VarStruct,
        VSVersionInfo,
    )

    numbers = version_tuple(version)
    strings = [
        StringStruct("CompanyName", "Lantern"),
        StringStruct("FileDescription", "Lantern, a private offline assistant"),
        StringStruct("FileVersion", version),
        StringStruct("InternalName", "lantern"),
        StringStruct("LegalCopyright", "MIT License"),
        StringStruct("OriginalFilename", "Lantern.exe"),
        StringStruct("ProductName", "Lantern"),
        StringStruct("ProductVersion", version),
    ]
    info = VSVersionInfo(
        ffi=FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[
            StringFileInfo([StringTable("040904B0", strings)]),
            VarFileInfo([VarStruct("Translation", [0x0409, 1200])]),
        ],
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(str(info), encoding="utf-8")
    return target
