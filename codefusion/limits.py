"""The generators' request limits, in a module without torch so the service can check a request
before it loads a model."""
from __future__ import annotations

MAX_K = 64          # candidates one call may ask for
MAX_STEPS = 1000    # sampling steps one call may ask for
DISPLAY_STEPS = 24      # steps of the stream's display trajectory (the task pane's denoising view)
MAX_DISPLAY_STEPS = 64
