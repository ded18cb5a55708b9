"""Configuration files are read in Kea's file dialect, not as strict JSON: what `kea-dhcp4 -t`
accepts, `leasesync serve -c` accepts, and what it refuses is refused naming the place."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.config import load_config, parse_config
from app.config_text import MAX_INCLUDE_DEPTH, ConfigSyntaxError, parse
from app.errors import ConfigError
from tests.conftest import KeaClient, ServerProcess, free_port, service_config
from tests.kea_harness import _which, require_kea, unavailable

KEA_EXAMPLES = Path("/usr/share/doc/kea/examples")


def value(text: str) -> Any:
    return parse(text, "c.json")[0]


def refusal(text: str) -> str:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse(text, "c.json")
    return str(caught.value)


# --- the dialect -------------------------------------------------------------------------------

def test_the_three_comment_styles_are_skipped_outside_strings() -> None:
    assert value('{ # hash\n "a": 1, // slashes\n /* block\n over lines */ "b": "# // /* kept */" }') == {
        "a": 1, "b": "# // /* kept */"}


def test_an_unclosed_block_comment_is_refused_naming_its_line() -> None:
    assert refusal('{\n "a": 1 /* open') == "c.json:2.9: comment not closed (/* in line 2)"


def test_integers_may_have_leading_zeros_as_in_kea() -> None:
    assert value('{"valid-lifetime": 04000, "n": -007}') == {"valid-lifetime": 4000, "n": -7}


@pytest.mark.parametrize(("spelled", "number"), [(".5", 0.5), ("5.", 5.0), ("+.5", 0.5), ("-.25", -0.25),
                                                 ("5e-1", 0.5), ("+3", 3.0), ("1.5E2", 150.0)])
def test_floats_are_read_as_kea_s_lexer_reads_them(spelled: str, number: float) -> None:
    read = value(f'{{"t1-percent": {spelled}}}')["t1-percent"]
    assert read == number and isinstance(read, float)


def test_an_integer_beyond_64_bits_is_refused() -> None:
    assert refusal('{"a": 99999999999999999999}') == "c.json:1.7: failed to convert 99999999999999999999 to an integer"


@pytest.mark.parametrize("spelled", [".", "NaN", "Infinity", "'x'"])
def test_what_is_no_number_or_string_in_kea_is_refused(spelled: str) -> None:
    text = refusal(f'{{"a": {spelled}}}')
    assert text.startswith("c.json:1.7: ")
    assert "failed to convert" in text or "invalid character" in text


def test_an_extra_comma_after_an_entry_is_accepted_with_a_warning() -> None:
    read, warnings = parse('{"a": [1, 2,], "b": 3,}', "c.json")
    assert read == {"a": [1, 2], "b": 3}
    assert warnings == [
        "c.json:1.12: extraneous comma after the last element of a list; a piece of configuration may have been omitted",
        "c.json:1.22: extraneous comma after the last entry of a map; a piece of configuration may have been omitted",
    ]


def test_each_doubled_comma_gets_its_warning() -> None:
    read, warnings = parse('{"a": 1,, "b": 2}', "c.json")
    assert read == {"a": 1, "b": 2}
    assert warnings == ["c.json:1.9: extraneous comma; a piece of configuration may have been omitted"]


@pytest.mark.parametrize("text", ["{,}", "[,]", '{"a": 1 "b": 2}', '{"a" 1}', "{1: 2}", '{"a": 1}}', "[1 2]"])
def test_what_kea_s_grammar_refuses_is_a_syntax_error(text: str) -> None:
    assert refusal(text).startswith("c.json:1.")


def test_a_key_twice_in_one_map_is_refused_naming_both_places() -> None:
    assert refusal('{"Dhcp4": {"valid-lifetime": 1,\n "valid-lifetime": 2}}') == (
        "c.json:2.2: duplicate valid-lifetime entries in Dhcp4 map (previous at c.json:1.12)")


def test_a_control_character_in_a_string_is_refused() -> None:
    assert refusal('{"a": "x\ty"}').startswith("c.json:1.7: bad string")


def test_an_include_directive_reads_the_named_file_in_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "subnets.json").write_text('{"id": 2, "subnet": "192.0.3.0/24"} // from the include\n')
    monkeypatch.chdir(tmp_path)  # a relative path is relative to the working directory, as in Kea
    read = value('{"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}, <?include "subnets.json"?>]}')
    assert read == {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}, {"id": 2, "subnet": "192.0.3.0/24"}]}


def test_errors_inside_an_included_file_name_that_file(tmp_path: Path) -> None:
    included = tmp_path / "part.json"
    included.write_text('{\n  "a": ,\n}')
    assert refusal(f'{{"x": <?include "{included}"?>}}') == f'{included}:2.8: syntax error, unexpected ",", expecting a value'


def test_a_missing_include_file_is_refused() -> None:
    assert refusal('{"x": <?include "/nonexistent/part.json"?>}') == (
        "c.json:1.7: can't open include file /nonexistent/part.json")


def test_includes_nest_as_deep_as_kea_s_and_no_deeper(tmp_path: Path) -> None:
    def chain(includes: int) -> str:
        for level in range(includes):
            (tmp_path / f"{level}.json").write_text(f'<?include "{tmp_path}/{level + 1}.json"?>')
        (tmp_path / f"{includes}.json").write_text("42")
        return f'<?include "{tmp_path}/0.json"?>'

    assert value(chain(MAX_INCLUDE_DEPTH - 1)) == 42  # the text itself holds the first include
    assert "too many nested includes" in refusal(chain(MAX_INCLUDE_DEPTH))


# --- through the configuration loader ------------------------------------------------------------

def test_a_syntax_error_fails_start_up_naming_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "leasesync.json"
    path.write_text('{"Dhcp4": {\n  "valid-lifetime": 4000\n  "subnet4": []\n}}')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (f'configuration syntax error: {path}:3.3: syntax error, unexpected "subnet4", '
                                 'expecting "," or "}"')


def test_extra_commas_are_logged_as_warnings_at_load(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "leasesync.json"
    path.write_text('{"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24",}], "t1-percent": .5}}')
    with caplog.at_level(logging.WARNING, logger="leasesync.config"):
        config = load_config(path)
    assert config.dhcp4 is not None and sorted(config.dhcp4.subnets) == [1]
    assert [r.getMessage() for r in caplog.records] == [
        f"configuration syntax warning: {path}:1.58: extraneous comma after the last entry of subnet4 map; "
        "a piece of configuration may have been omitted"]


async def test_config_reload_reads_an_included_file_again(make_client: Any, sqlite_database: dict[str, Any],
                                                          tmp_path: Path) -> None:
    client: KeaClient = await make_client(service_config(sqlite_database, dhcp6=False))
    subnets = tmp_path / "subnets4.json"
    subnets.write_text('{"id": 7, "subnet": "198.51.100.0/24"}')
    config = service_config(sqlite_database, dhcp6=False)
    config["Dhcp4"]["subnet4"] = ["@SUBNETS@"]
    # the file make_client's runtime was started from, now with an include
    (tmp_path / "leasesync.json").write_text(json.dumps(config).replace('"@SUBNETS@"', f'<?include "{subnets}"?>'))
    assert (await client.one("config-reload", "dhcp4"))["result"] == 0
    added = await client.one("lease4-add", "dhcp4", {"ip-address": "198.51.100.5", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert added["result"] == 0, added
    got = await client.one("lease4-get", "dhcp4", {"ip-address": "198.51.100.5"})
    assert got["arguments"]["subnet-id"] == 7


# --- Kea as the oracle -----------------------------------------------------------------------------

_ACCEPT_REFUSE = {
    "plain": '{"Dhcp4": {"valid-lifetime": 4000, "t1-percent": 0.5}}',
    "leading-dot float": '{"Dhcp4": {"t1-percent": .5}}',
    "trailing-dot float": '{"Dhcp4": {"t1-percent": 5.}}',
    "signed float": '{"Dhcp4": {"t1-percent": +.5}}',
    "exponent float": '{"Dhcp4": {"t1-percent": 5e-1}}',
    "leading zeros": '{"Dhcp4": {"valid-lifetime": 04000}}',
    "trailing comma in a map": '{"Dhcp4": {"valid-lifetime": 4000,}}',
    "two commas in a map": '{"Dhcp4": {"valid-lifetime": 4000,, "renew-timer": 1000}}',
    "trailing comma in a list": '{"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"},]}}',
    "top-level trailing comma": '{"Dhcp4": {"valid-lifetime": 4000},}',
    "all comment styles": '# a\n{ // b\n "Dhcp4": /* c */ {"valid-lifetime": 4000}}',
    "include": '{"Dhcp4": {"subnet4": [<?include "@DIR@/subnet.json"?>]}}',
    "empty comma map": '{"Dhcp4": {,}}',
    "empty comma list": '{"Dhcp4": {"subnet4": [,]}}',
    "missing comma": '{"Dhcp4": {"valid-lifetime": 4000 "renew-timer": 1000}}',
    "duplicate key": '{"Dhcp4": {"valid-lifetime": 4000, "valid-lifetime": 5000}}',
    "duplicate key in user-context": '{"Dhcp4": {"user-context": {"a": 1, "a": 2}}}',
    "NaN": '{"Dhcp4": {"t1-percent": NaN}}',
    "lone point": '{"Dhcp4": {"t1-percent": .}}',
    "integer beyond 64 bits": '{"Dhcp4": {"user-context": {"n": 99999999999999999999}}}',
    "single quotes": "{\"Dhcp4\": {'valid-lifetime': 4000}}",
    "control character": '{"Dhcp4": {"server-tag": "a\tb"}}',
    "unclosed comment": '{"Dhcp4": {"valid-lifetime": 4000}} /* open',
    "missing include": '{"Dhcp4": {"subnet4": [<?include "@DIR@/missing.json"?>]}}',
}


@pytest.mark.parametrize("name", sorted(_ACCEPT_REFUSE))
def test_a_file_is_accepted_exactly_when_kea_dhcp4_accepts_it(name: str, tmp_path: Path) -> None:
    require_kea()
    (tmp_path / "subnet.json").write_text('{"id": 1, "subnet": "192.0.2.0/24"}')
    path = tmp_path / "kea-dhcp4.json"
    path.write_text(_ACCEPT_REFUSE[name].replace("@DIR@", str(tmp_path)))
    kea = subprocess.run([_which("kea-dhcp4") or "kea-dhcp4", "-t", str(path)], capture_output=True, text=True,
                         timeout=30, cwd=tmp_path)
    try:
        load_config(path)
        leasesync_accepts, why = True, ""
    except ConfigError as exc:
        leasesync_accepts, why = False, str(exc)
    assert leasesync_accepts == (kea.returncode == 0), (why, kea.stdout[-500:])


def _kea_examples() -> list[Path]:
    return sorted(KEA_EXAMPLES.glob("kea[46]/*.json"))


@pytest.mark.parametrize("name", [f"{p.parent.name}/{p.name}" for p in _kea_examples()] or ["(kea-doc missing)"])
def test_each_of_kea_s_example_configurations_loads(name: str) -> None:
    """Kea's own examples (package kea-doc), with a memfile lease database swapped for SQLite
    as an administrator moving to leasesync would."""
    example = KEA_EXAMPLES / name
    if not example.is_file():
        unavailable("Kea's example configurations (apt-get install kea-doc)")
    family = 4 if name.startswith("kea4") else 6
    document, _ = parse(example.read_text(), str(example))
    section = document[f"Dhcp{family}"]
    if section.get("lease-database", {"type": "memfile"})["type"] == "memfile":
        section["lease-database"] = {"type": "sqlite", "name": "leases.db"}
    assert parse_config(document, example).family(family) is not None


def test_serve_starts_on_a_file_in_kea_s_dialect(sqlite_database: dict[str, Any], tmp_path: Path) -> None:
    config = service_config(sqlite_database, port=free_port())
    text = json.dumps(config, indent=2)
    assert '"valid-lifetime": 4000' in text
    text = text.replace('"valid-lifetime": 4000', '"valid-lifetime": 04000,  // as Kea reads it\n')
    proc = ServerProcess(config, tmp_path)
    try:
        proc.start(text=text)
        answer = proc.command("config-get", "dhcp4")
        assert answer[0]["arguments"]["Dhcp4"]["valid-lifetime"] == 4000
    finally:
        proc.stop()
    assert "configuration syntax warning" in proc.log_path.read_text()
