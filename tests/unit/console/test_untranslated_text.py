"""The console shows no English of its own outside the catalogues (docs/console.md, "Languages"):
`frontend/scripts/check-i18n.mjs` reads the console's source with the TypeScript parser and
reports JSX text, user-facing attributes, literals shown from expressions or handed to
flash/confirm/set…, and server `.message`s shown as they came."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
SCRIPT = FRONTEND / "scripts" / "check-i18n.mjs"


def _check(directory: Path | None = None) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "typescript").is_dir():
        pytest.fail("node and frontend/node_modules are needed (scripts/setup installs them)")
    args = [node, str(SCRIPT)] + ([str(directory)] if directory else [])
    return subprocess.run(args, capture_output=True, text=True, cwd=FRONTEND, check=False)


def test_the_console_has_no_untranslated_text() -> None:
    result = _check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_the_check_finds_each_kind_of_untranslated_text(tmp_path: Path) -> None:
    (tmp_path / "Page.tsx").write_text(
        "export function Page({ store, e, on }: any) {\n"
        "  store.flash(e.message);\n"
        '  if (!confirm("Delete it?")) return null;\n'
        '  return <form aria-label="Create site">\n'
        '    <label>Name <input placeholder={on ? "Find" : t("x")} /></label>\n'
        '    {on ? "shown" : t("y")} {e.message}\n'
        '    <b>{t("ok")}</b> <i>Tresen</i> {/* i18n-ignore */}\n'
        "  </form>;\n"
        "}\n"
    )
    (tmp_path / "lang").mkdir()
    (tmp_path / "lang" / "en.ts").write_text('export const en = { a: "Words here" };\n')
    result = _check(tmp_path)
    assert result.returncode == 1
    found = [line.split(": ", 1)[1] for line in result.stdout.splitlines()]
    assert found == [
        '"server message: e.message"',
        '"Delete it?"',
        '"Create site"',
        '"Name"',
        '"Find"',
        '"shown"',
        '"server message: e.message"',
    ]
