"""Tresen's app for Granian: ``BENCH_SERVER=granian`` runs the benchmarks' server with
``python -m granian --interface asgi --factory bench._granian_app:app`` instead of ``tresen
serve`` (uvicorn), to compare the two ASGI servers on the same app (issue #17). Granian is not a
dependency: ``pip install granian`` to try it."""

from __future__ import annotations

from typing import Any

from tresen.app import create_app
from tresen.cli import _settings, tune_gc


def app() -> Any:
    """The factory Granian's worker calls: the app as ``tresen serve`` builds it."""
    application = create_app(_settings())
    tune_gc()
    return application
