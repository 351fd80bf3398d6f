import sys

from refarch_tui.cli import main

sys.exit(main())
