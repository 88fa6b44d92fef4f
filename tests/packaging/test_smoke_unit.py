"""desktop.smoke without a frozen build: the report format, a failing check does not stop
the others, the exit status, the fresh profile, and the keyring honesty rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop import smoke


def _run(monkeypatch: pytest.MonkeyPatch, checks: tuple[Any, ...]) -> tuple[int, list[str]]:
    monkeypatch.setattr(smoke, "CHECKS", checks)
    lines: list[str] = []
    code = smoke.run_smoke_test(Path("/rep/profile"), out=lines.append)
    return code, lines


def test_one_line_per_check_and_failures_do_not_stop_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []

    def good(profile: Path) -> str:
        seen.append(profile)
        return "fine"

    def bad(_profile: Path) -> str:
        raise smoke.SmokeCheckFailed("the sample page\nwas blank")

    def crash(_profile: Path) -> str:
        raise OSError("disk full")

    code, lines = _run(monkeypatch, (("a", good), ("b", bad), ("c", crash), ("d", good)))
    assert code == 1
    assert lines[0].startswith("ok profile fresh ") and "/rep/profile is not touched" in lines[0]
    assert lines[1].startswith("ok a fine (")
    assert lines[2] == "FAIL b the sample page was blank"
    assert lines[3] == "FAIL c OSError: disk full"
    assert lines[4].startswith("ok d fine")
    assert lines[5] == "FAIL summary 2/4 checks passed"
    assert seen and all(p != Path("/rep/profile") and not p.exists() for p in seen)


def test_all_passing_exits_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = _run(monkeypatch, (("a", lambda _p: "x"),))
    assert code == 0 and lines[-1] == "ok summary 1/1 checks passed"


def test_tls_and_keyring_checks_pass_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(smoke.ONLY_ENV, "tls,keyring")
    lines: list[str] = []
    assert smoke.run_smoke_test(None, out=lines.append) == 0, lines
    assert [ln.split()[1] for ln in lines] == ["profile", "keyring", "tls", "summary"]
    assert "only keyring, tls" in lines[-1]


def test_smoke_keyring_is_never_chosen_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(smoke.SMOKE_KEYRING_ENV, raising=False)
    assert not smoke.SmokeTestKeyring.viable
    monkeypatch.setenv(smoke.SMOKE_KEYRING_ENV, smoke.SMOKE_KEYRING_NAME)
    assert smoke.SmokeTestKeyring.viable


def test_keyring_check_fails_plainly_without_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(smoke.SmokeCheckFailed, match="no usable keyring backend"):
            smoke.check_keyring(Path("."))
    finally:
        keyring.set_keyring(previous)


def test_ocr_fields_compare_as_a_rep_reads_them() -> None:
    assert smoke._same(6653000, 6653000.0) and smoke._same("2026-04-20", "2026-04-20")
    assert not smoke._same(None, 6653000.0) and not smoke._same(6653001, 6653000.0)
