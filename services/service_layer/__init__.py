"""The use cases: what the system does, each written once. A command (a small frozen
dataclass) goes to its handler, which loads what it needs through a unit of work, applies
the domain's rules (`lanes`), saves, and wakes the publisher of the events it recorded.
The entry points call the handlers, and the adapters (database, or in memory for the unit
tests) are chosen by whoever builds the unit of work. So far: the slot bookings (book,
reschedule, cancel), called by the HTTP routes and the cross-border intake; the decider,
the orchestrator and the control room still run their own transactions."""
