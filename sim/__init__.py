"""The simulated market: reference price, AMM pools, the simulated Jupiter (imports core only)."""
