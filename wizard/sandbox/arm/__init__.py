"""Azure Resource Manager emulation."""
