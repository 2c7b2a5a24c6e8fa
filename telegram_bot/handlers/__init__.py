"""The bot's routers, one per audience: the community group, staff, players, and a fallback for the rest. Each
module's `router_create()` builds a fresh Router (a router can belong to one dispatcher only)."""
