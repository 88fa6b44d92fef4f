"""The follow-up fixtures (a store on an injected clock), for the lead notification test."""

from tests.followup.conftest import clock, fstore  # noqa: F401  (fixtures)
