"""The documentation stays true to the code: the command reference is generated from the
registry, and the configuration reference names every key the parser accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config
from app.commands.registry import registry
from app.docs_gen import DEFAULT_OUTPUT, main, render

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_command_reference_matches_the_registry() -> None:
    assert DEFAULT_OUTPUT.read_text() == render(), "docs/commands.md is out of date: run python -m app.docs_gen"


def test_every_registered_command_is_documented() -> None:
    text = render()
    assert all(f"### {spec.name}\n" in text for spec in registry.all())


def test_check_mode_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "commands.md"
    stale.write_text("# old\n")
    assert main(["--check", "-o", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err


@pytest.mark.parametrize("keys", [config._AGENT_KEYS - {"user-context", "comment", "hooks-libraries"},
                                  config._DB_KEYS])
def test_configuration_reference_names_every_key(keys: set[str]) -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = sorted(k for k in keys if not re.search(rf"`{re.escape(k)}`", text))
    assert not missing, f"docs/configuration.md does not describe {missing}"


@pytest.mark.parametrize("name", ["quickstart.md", "configuration.md", "troubleshooting.md",
                                  "migrating-from-kea-ctrl-agent.md", "commands.md"])
def test_guide_exists(name: str) -> None:
    assert (DOCS / name).read_text().startswith("# ")
