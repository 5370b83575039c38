"""One module per step of the flow; each step can describe, check and apply itself (see base.py)."""
