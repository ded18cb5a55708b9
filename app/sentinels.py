"""One marker for "this key was absent from the JSON map", distinct from a present `null`.

Kea tells the two apart (`arguments not found` against `arguments ... are not a map`), so the
layers that parse requests and the sans-I/O HA core share this object. It lives in a module that
imports nothing, so the HA core can use it without pulling in the command registry.
"""

from typing import Any

MISSING: Any = object()
