"""``python -m toyregimes.derivations [--claim NAME] [--json]`` (from a checkout also ``python -m derivations``)."""

from .report import main

raise SystemExit(main())
