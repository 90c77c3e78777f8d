"""Pure domain: tokens, orders, costs, router, allocator, curves, explanations (stdlib only)."""
