"""The pure domain of borderflow: plates, visits, manifests, matching and lane assignment.

Imports the standard library only. Time is always an argument, never read from a clock,
so that a recorded day replays to the same decisions.
"""
