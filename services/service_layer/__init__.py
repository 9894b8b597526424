"""The use cases: what the system does, each written once. A command (a small frozen
dataclass) goes to its handler, which loads what it needs through a unit of work, applies
the domain's rules (`lanes`), saves, and wakes the publisher of the events it recorded.
The entry points (HTTP routes, consumers, CLI) call the handlers; the adapters (database,
Kafka; or in memory, for the unit tests) are chosen by whoever builds the unit of work."""
