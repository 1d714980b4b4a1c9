"""What takes the space in a bundle: total, without the starter model, largest files."""

from __future__ import annotations

from pathlib import Path

STARTER_SUFFIX = ".gguf"
MB = 1_000_000


def measure(bundle: Path, top: int = 15) -> dict[str, object]:
    """Sizes of ``bundle`` (a onedir build); links are not followed or counted twice."""
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    sizes = sorted(((p.stat().st_size, p) for p in files), reverse=True)
    total = sum(size for size, _ in sizes)
    models = sum(size for size, p in sizes if p.suffix == STARTER_SUFFIX)
    return {
        "files": len(files),
        "total_bytes": total,
        "without_models_bytes": total - models,
        "largest": [
            {"path": p.relative_to(bundle).as_posix(), "bytes": size} for size, p in sizes[:top]
        ],
    }


def describe(report: dict) -> str:
    """A few lines for the terminal."""
    b = report["bundle"]
    lines = [
        f"lantern {report['version']}: bundle {b['total_bytes'] / MB:.0f} MB in {b['files']} "
        f"files, {b['without_models_bytes'] / MB:.0f} MB without the starter model",
        "times: " + ", ".join(f"{k} {v}" for k, v in report["times"].items()),
        "largest files:",
    ]
    lines += [f"  {f['bytes'] / MB:8.1f} MB  {f['path']}" for f in b["largest"]]
    lines += [f"made {name} ({size / MB:.0f} MB)" for name, size in report["installers"].items()]
    return "\n".join(lines)
