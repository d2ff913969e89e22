"""``from spectryn.adapters.bitbucket import BitbucketAdapter``: the seed guide's Bitbucket API,
re-exported from :mod:`spectryn_bitbucket.adapter` (see its docstring for the methods)."""

try:
    from spectryn_bitbucket.adapter import BitbucketAdapter, issue_number
except ModuleNotFoundError as error:  # the [bitbucket] extra (requests) is not installed
    raise ImportError(f"{error}: the Bitbucket adapter needs pip install 'spectryn[bitbucket]'",
                      name=error.name) from error

__all__ = ["BitbucketAdapter", "issue_number"]
