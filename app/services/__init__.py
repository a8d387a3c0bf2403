"""Business logic. Nothing in here knows about HTTP."""
