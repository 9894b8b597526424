"""The use cases: what the system does, each written once. A command (a small frozen
dataclass) goes to its handler, which loads what it needs through a unit of work, applies
the domain's rules (`lanes`), saves, and wakes the publisher of the events it recorded.
The entry points call the handlers; the composition root (services/bootstrap) builds them
with their ports' adapters (database, or in memory for the unit tests and the replay).
So far: the slot bookings (`bookings.py`: the HTTP routes, the cross-border intake),
deciding a batch of plate reads (`deciding.py`, with `alert_step.py`: the plate reads'
consumer, the replay), applying lane events (`lane_events.py`: their consumer, the
replay), the control room's actions and alert workflow (`control.py`), filing manifests
(`manifests.py`: the HTTP API, the manifests' consumer, the bulk import), call-forward
(`callforward.py`), recording weighings (`weighings.py`) and notifying calls
(`call_notices.py`). The archiver and the cross-border link still run their own
transactions."""
