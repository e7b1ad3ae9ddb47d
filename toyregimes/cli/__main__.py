"""``python -m toyregimes.cli``: the ``toyregimes`` command."""

import sys

from toyregimes.cli import main

sys.exit(main())
