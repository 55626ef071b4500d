"""``python -m apps.handoffs.simulator``: the same as ``manage.py department_simulator``."""

import sys

from apps.handoffs.simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
