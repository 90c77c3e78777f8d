"""Tables' writers: inventory moves, rollups, audit, reconcile (imports models and core)."""
