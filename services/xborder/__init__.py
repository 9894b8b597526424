"""The link between the two sides of one gate (issue 21): settings, persistence, the link
worker (outbound, forwarder, receiver) and reconciliation over the stored crossings."""
