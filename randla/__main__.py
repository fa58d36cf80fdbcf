"""``python -m randla``: the same as the ``randla`` command."""

import sys

from .cli import main

sys.exit(main())
