"""Use cases: quoting, trading, execution, market wiring, pools, accounts, monitoring."""
