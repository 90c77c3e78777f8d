"""Read-only analytics and dashboard queries (imports ledger models and core)."""
