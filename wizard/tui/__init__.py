"""The Textual face of the engine. Screens are thin: they edit the plan and ask the engine to act; all Azure and
Kubernetes work happens in the engine's steps, run in thread workers."""
