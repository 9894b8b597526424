"""Risk alerts on the live path (issue 22): the rules of `lanes.alerts` evaluated by a step
of the decider over what the database holds, persisted, published on `borderflow.alerts`,
and worked by controllers through the control room."""
