"""`python -m orchestration.cli`, as the `session-analytics` script."""

import sys

from orchestration.cli import main

sys.exit(main())
