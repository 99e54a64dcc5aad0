"""``python -m popsim``: the same as the ``popsim`` command."""

import sys

from .cli import main

sys.exit(main())
