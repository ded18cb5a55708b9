"""Sans-I/O core of Kea 2.2 compatible High Availability (no sockets, no clocks, no asyncio)."""

from app.ha.config import HaConfig, HaMode, PeerConfig, Role, parse_ha_parameters
from app.ha.state_machine import HaStateMachine
from app.ha.states import HaState

__all__ = ["HaConfig", "HaMode", "HaState", "HaStateMachine", "PeerConfig", "Role", "parse_ha_parameters"]
