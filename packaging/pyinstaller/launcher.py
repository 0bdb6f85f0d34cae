"""The program PyInstaller freezes: the same entry point as the ``privacy-inspector`` script."""

import sys

from privacy_inspector.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
