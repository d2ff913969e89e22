"""A local Bitbucket API sandbox server (standard library only).

``Sandbox`` speaks the Bitbucket Cloud 2.0 issue-tracker subset spectryn uses (and, in server mode,
Data Center's REST 1.0 repository and pull-request endpoints), with switchable faults.
``main(argv)`` is the command line (``spectryn bitbucket sandbox`` / ``python -m spectryn_bitbucket.sandbox``).
"""

from .server import Sandbox, add_sandbox_arguments, main, run_from_args

__all__ = ["Sandbox", "add_sandbox_arguments", "main", "run_from_args"]
