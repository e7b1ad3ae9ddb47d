"""``python -m derivations [--claim NAME] [--json]``: run the verification from a checkout."""

from derivations.report import main

raise SystemExit(main())
