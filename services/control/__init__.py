"""The control room (issue 6): the live gate page for lane controllers, their accounts,
the live stream and the actions, each written to the audit log."""
