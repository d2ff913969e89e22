"""``spectryn``: the import name the seed guide's Python API uses - a thin re-export, no code.

    from spectryn.adapters.bitbucket import BitbucketAdapter

The code lives in ``spectryn_core`` (the framework) and in the plugins (``spectryn_bitbucket``,
``spectryn_markdown``); this package only gives their public classes the names users type.
"""

from spectryn_core import __version__

__all__ = ["__version__"]
