"""``spec_to_json``: the parsed spec in the ``spectryn validate FILE --output json`` shape.

The function lives in :mod:`spectryn_core.spec_json` (the CLI prints it for any parser plugin); it is
re-exported here so the markdown plugin's tests and golden files check exactly what users see.
"""

from __future__ import annotations

from spectryn_core.spec_json import spec_to_json

__all__ = ["spec_to_json"]
