"""The gate files shipped with borderflow (`*.toml`, one a gate) and their schema; loaded by
`services.gates.loader`."""
