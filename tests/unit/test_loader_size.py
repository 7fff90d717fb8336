"""The loader runs in every customer's page: it must stay small (≤ 10 KB gzipped)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
BUILT = ROOT / "src" / "tresen" / "static" / "build" / "widget.js"
BUDGET = 10 * 1024


def _stale() -> bool:
    if not BUILT.exists():
        return True
    sources = [
        *(FRONTEND / "src" / "loader").rglob("*.ts"),
        *(FRONTEND / "src" / "shared").rglob("*.ts"),
    ]
    return any(p.stat().st_mtime > BUILT.stat().st_mtime for p in sources)


@pytest.fixture(scope="module")
def loader() -> bytes:
    if _stale():
        npm = shutil.which("npm")
        if npm is None or not (FRONTEND / "node_modules" / "esbuild").exists():
            pytest.skip("the loader is not built and npm/esbuild are not available")
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True, capture_output=True)
    return BUILT.read_bytes()


def test_loader_is_within_budget(loader: bytes) -> None:
    size = len(gzip.compress(loader, compresslevel=9))
    assert size <= BUDGET, f"widget.js is {size} bytes gzipped; the budget is {BUDGET}"


def test_loader_is_the_real_one(loader: bytes) -> None:
    text = loader.decode()
    assert "postMessage" in text and "/widget/frame" in text and "placeholder" not in text


def test_frame_core_can_be_inlined(loader: bytes) -> None:
    """The frame's core goes into the frame's HTML inside ``<script>``: ``</script`` is escaped
    when it is inlined (``web/widget.py``), but ``<!--`` or ``<script`` in it would change how
    the HTML parser reads the rest; and the frame with it stays within the byte budget."""
    manifest = json.loads((BUILT.parent / "manifest.json").read_text())
    core = (BUILT.parent / manifest["widget-core.js"]).read_text()
    assert "<!--" not in core and "<script" not in core.lower()
    frame = len(gzip.compress(loader, 9)) + len(gzip.compress(core.encode(), 9))
    assert frame <= BUDGET - 1024, f"loader + core are {frame} bytes gzipped"
