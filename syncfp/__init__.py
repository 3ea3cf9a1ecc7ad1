"""syncfp: sync multi-camera footage by sound with landmark audio fingerprints and a global alignment graph.

The root is lazy: `import syncfp` loads nothing else; `syncfp.align`, `syncfp.Library` and the other public
names import their module on first use (PEP 562 `__getattr__`), so `syncfp --help` and `--version` do not
pay for PyAV, SciPy, OpenTimelineIO or the exporters. See docs/algorithm.md for the map of the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → module that defines it
_EXPORTS: dict[str, str] = {
    "align": "syncfp.sync.api", "placed_by_clock": "syncfp.sync.byclock",
    "Library": "syncfp.library.store",
    "Alignment": "syncfp.types", "ClipResult": "syncfp.types", "ClipStatus": "syncfp.types", "MediaInfo": "syncfp.types",
    "PairMatch": "syncfp.types", "ClockHint": "syncfp.types",
    "FingerprintConfig": "syncfp.config", "MatchConfig": "syncfp.config", "SolveConfig": "syncfp.config",
    "VerifyConfig": "syncfp.config", "RescueConfig": "syncfp.config", "DecodeConfig": "syncfp.config",
    "SyncfpError": "syncfp.errors", "MediaError": "syncfp.errors",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the module defining public *name* on first use and cache the value in the package."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'syncfp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])


if TYPE_CHECKING:  # static checkers and IDEs see the eager imports
    from .config import DecodeConfig, FingerprintConfig, MatchConfig, RescueConfig, SolveConfig, VerifyConfig
    from .errors import MediaError, SyncfpError
    from .library.store import Library
    from .sync.api import align
    from .sync.byclock import placed_by_clock
    from .types import Alignment, ClipResult, ClipStatus, ClockHint, MediaInfo, PairMatch
