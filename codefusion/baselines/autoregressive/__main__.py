"""`python -m codefusion.baselines.autoregressive train|generate|params ...` (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
