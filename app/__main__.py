"""``python -m privacy_inspector``."""

import sys

from privacy_inspector.cli.main import main

sys.exit(main())
