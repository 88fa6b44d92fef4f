"""Leads (issue 17): assignment rules and escalation as pure functions (`rules`,
`escalation`, shared with the server), and the device's lead commands (`service`)."""
