"""syncfp: sync multi-camera footage by sound with landmark audio fingerprints and a global alignment graph."""

from .config import FingerprintConfig, MatchConfig, SolveConfig, VerifyConfig
from .errors import MediaError, SyncfpError
from .library.store import Library
from .sync.api import align
from .types import Alignment, ClipResult, MediaInfo, PairMatch

__all__ = [
    "align", "Library", "Alignment", "ClipResult", "MediaInfo", "PairMatch", "FingerprintConfig", "MatchConfig",
    "SolveConfig", "VerifyConfig", "SyncfpError", "MediaError",
]
__version__ = "0.1.0"
