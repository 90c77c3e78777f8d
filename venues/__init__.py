"""Everything that talks to the outside: Jupiter wire and guards, shared Redis state (imports core only)."""
