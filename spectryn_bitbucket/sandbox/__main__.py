"""``python -m spectryn_bitbucket.sandbox``."""

import sys

from .server import main

sys.exit(main())
