"""The version of spectryn, read by the build (``pyproject.toml``: ``[tool.setuptools.dynamic]``)
and by ``spectryn --version`` without a package-metadata lookup."""

__version__ = "0.1.0"
