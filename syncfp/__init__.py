"""syncfp: sync multi-camera footage by sound with landmark audio fingerprints and a global alignment graph."""

from .api import align
from .config import FingerprintConfig, MatchConfig, SolveConfig, VerifyConfig
from .errors import MediaError, SyncfpError
from .types import Alignment, ClipResult, MediaInfo, PairMatch

__all__ = [
    "align", "Alignment", "ClipResult", "MediaInfo", "PairMatch", "FingerprintConfig", "MatchConfig",
    "SolveConfig", "VerifyConfig", "SyncfpError", "MediaError",
]
__version__ = "0.1.0"
