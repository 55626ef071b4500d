"""``python -m apps.handoffs.simulator``: the same as ``manage.py department_simulator``."""

import sys

from apps.handoffs.simulator.cli import main

sys.exit(main())
