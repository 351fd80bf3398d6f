"""refarch-tui: deploy a multi-account AWS Reference Architecture from a terminal wizard."""

__version__ = "0.1.0"
