"""The traffic simulator's parts: plates and OCR noise, container numbers, the day's plan.

`services.simulation.traffic` is the entry point (planning, seeding, publishing); these modules are
pure and deterministic: a `random.Random` and the times come in as arguments.
"""
