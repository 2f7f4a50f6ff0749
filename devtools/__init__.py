"""Development and test tooling: the local stack that ``make run`` and the end-to-end tests start."""
