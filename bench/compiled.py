"""Build a copy of leasesync whose hot-path modules are compiled with mypyc, to measure what
compiling the same Python source would buy (the service itself ships as plain Python).

    python bench/compiled.py OUT          # copy app/, migrations/ to OUT, compile HOT_MODULES there
    python bench/inprocess.py --tree OUT  # then: the loop's CPU per request, compiled
    python bench/control.py --compiled mc --targets sqlite,sqlite@mc,kea-ha   # builds it itself

mypyc turns type-annotated modules into C extensions; the rest of the copy (and SQLAlchemy,
which has its own compiled parts) stays as it is, and every lease change still goes through
SQLAlchemy. It takes about two minutes on two cores. Python imports the extension before the
.py beside it, so OUT runs the compiled modules wherever it is put on sys.path.

What the source avoids so that mypyc compiles it: instance attributes named `_inline` or
`_thread` (mypyc prefixes an underscore to name the C field, and `__inline` and `__thread` are
GCC keywords), a ClassVar that a dataclass subclass overrides (mypyc takes it for a field), and
a value typed by a library's stub more narrowly than it is (a compiled module checks the type it
was told: httptools' parsed URL). A class defined in plain Python cannot subclass a compiled one.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The modules a lease4-update and a lease6-bulk-apply run through on the serving loop
# (bench/inprocess.py --sample). Left out: app/commands/context.py (its dataclass names a type
# imported only for type checking, which a compiled dataclass looks up at import) and
# app/api/asgi.py (app/api/frontends.py subclasses its ControlChannelApp, and frontends.py cannot be
# compiled with it: its OwnerGone subclasses ConnectionError, a builtin mypyc cannot extend).
HOT_MODULES = (
    "app/api/protocol.py",
    "app/api/dispatch.py",
    "app/commands/registry.py",
    "app/commands/lease_parse.py",
    "app/commands/leases.py",
    "app/kea_json.py",
    "app/store/leases.py",
    "app/store/repository.py",
)


def build(out: Path, source: Path = ROOT) -> Path:
    """Copy `source`'s app/, migrations/ and pyproject.toml to `out` and compile HOT_MODULES there; return `out`."""
    if importlib.util.find_spec("mypyc") is None:
        raise SystemExit("bench/compiled.py needs mypyc (pip install mypy) and a C compiler")
    out.mkdir(parents=True, exist_ok=True)
    for part in ("app", "migrations"):
        shutil.rmtree(out / part, ignore_errors=True)
        shutil.copytree(source / part, out / part, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy2(source / "pyproject.toml", out / "pyproject.toml")  # mypy's settings, which mypyc reads
    result = subprocess.run([sys.executable, "-m", "mypyc", *HOT_MODULES], cwd=out, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"mypyc failed in {out}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    shutil.rmtree(out / "build", ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="directory for the compiled copy")
    args = parser.parse_args(argv)
    print(build(args.out.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
