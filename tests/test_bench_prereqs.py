"""Benchmarks run alone: a missing tool is named with how to get it, never a traceback."""
from __future__ import annotations

import pytest

from bench import _prereq, api


def test_a_benchmark_without_wrk_says_how_to_install_it_and_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(_prereq, "WRK", "/nonexistent/wrk")
    assert api.main(["--seconds", "1"]) == 2
    assert "apt-get install wrk" in capsys.readouterr().err


def test_every_need_a_benchmark_checks_has_a_sentence_saying_how_to_get_it() -> None:
    assert set(_prereq.HOW) == {"venv", "wrk", "gunicorn", "pyinstrument", "postgresql"}
    assert _prereq.missing("venv") == []
