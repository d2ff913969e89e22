"""A local Bitbucket API sandbox server (standard library only).

``Sandbox`` speaks the Bitbucket Cloud 2.0 issue-tracker subset spectryn uses (and, in server mode,
Data Center's REST 1.0 repository and pull-request endpoints), with switchable faults.
``main(argv)`` is the command line (``spectryn bitbucket sandbox`` / ``python -m spectryn_bitbucket.sandbox``).
"""

from typing import TYPE_CHECKING, Any

from .options import add_sandbox_arguments

if TYPE_CHECKING:
    from .server import Sandbox, main, run_from_args


def __getattr__(name: str) -> Any:
    """The server and its parts are imported on first use (``spectryn`` loads this package to build
    its parser, and most commands never start a sandbox)."""
    if name in ("Sandbox", "main", "run_from_args"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Sandbox", "add_sandbox_arguments", "main", "run_from_args"]
