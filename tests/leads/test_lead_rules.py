"""Lead assignment rules and the escalation clock, pure (desktop.leads): rule order and
conditions, weighted round-robin fairness, skipping, and an SLA timeline."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.leads import escalation as esc
from desktop.leads.rules import Policy, Rep, Rule, first_match, iso, pick

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def test_first_matching_rule_in_order_decides() -> None:
    rules = [Rule("big deals", position=0, min_budget=100_000, team="key"),
             Rule("east web", position=1, regions=("east",), sources=("web",), team="east"),
             Rule("everyone else", position=2, team="all")]
    assert first_match(rules, {"budget": 500_000, "region": "east"}).name == "big deals"
    assert first_match(rules, {"budget": 5, "region": "East", "source": "web"}).name == "east web"
    assert first_match(rules, {"region": "east", "source": "ad"}).name == "everyone else"
    rules[2] = Rule("everyone else", position=2, team="all", active=False)
    assert first_match(rules, {"region": "west"}) is None


@settings(max_examples=200, deadline=None)
@given(regions=st.lists(st.sampled_from(["east", "west", "north"]), max_size=2, unique=True),
       lo=st.none() | st.integers(0, 1000), hi=st.none() | st.integers(0, 1000),
       region=st.sampled_from(["east", "west", "north", ""]),
       budget=st.none() | st.integers(0, 1000))
def test_rule_holds_exactly_when_every_condition_holds(regions: list[str], lo: int | None,
                                                       hi: int | None, region: str,
                                                       budget: int | None) -> None:
    rule = Rule("r", regions=tuple(regions), min_budget=lo, max_budget=hi, team="t")
    expected = ((not regions or region in regions)
                and (lo is None or (budget is not None and budget >= lo))
                and (hi is None or (budget is not None and budget < hi)))
    assert rule.matches({"region": region, "budget": budget}) == expected


def test_weighted_round_robin_lands_within_one_of_the_weights() -> None:
    weights = {"ann": 1, "bo": 2, "cy": 3, "di": 1, "ed": 4, "fay": 2, "gus": 1}
    reps = {n: Rep(n, weight=w, open_limit=10_000) for n, w in weights.items()}
    assigned: dict[str, int] = {}
    total = sum(weights.values())
    for n in range(1, 1001):
        who = pick(list(weights), reps, assigned, {}, NOW)
        assert who is not None
        assigned[who] = assigned.get(who, 0) + 1
        for name, w in weights.items():  # every prefix is fair, not only the end
            assert abs(assigned.get(name, 0) - n * w / total) <= 1
    assert sum(assigned.values()) == 1000


def test_disabled_away_and_full_reps_are_skipped() -> None:
    reps = {"ann": Rep("ann", enabled=False), "bo": Rep("bo", open_limit=2),
            "cy": Rep("cy", away_from=iso(NOW - dt.timedelta(hours=1)),
                      away_until=iso(NOW + dt.timedelta(hours=1))), "di": Rep("di")}
    assert pick(["ann", "bo", "cy", "di"], reps, {"di": 5}, {"bo": 2}, NOW) == "di"
    assert pick(["ann", "bo", "cy"], reps, {}, {"bo": 2}, NOW) is None
    later = NOW + dt.timedelta(hours=2)  # back from leave
    assert pick(["ann", "bo", "cy"], reps, {}, {"bo": 2}, later) == "cy"
    assert pick(["di"], reps, {}, {}, NOW, exclude=["di"]) is None


def test_escalation_timeline_with_an_injected_clock() -> None:
    policy = Policy(first_contact_min=15, reassign_min=60, max_reassign=1,
                    retry_min=(30, 120), reclaim_days=7)
    lead = {"status": "assigned", "owner": "ann", "assigned_at": iso(NOW)}
    at = lambda minutes: NOW + dt.timedelta(minutes=minutes)  # noqa: E731
    assert esc.evaluate(lead, policy, at(14)) == esc.Due(esc.NONE, at(15))
    due = esc.evaluate(lead, policy, at(15))
    assert (due.action, due.escalation, due.next_at) == (esc.REMIND, esc.REMINDED, at(60))
    lead["escalation"] = esc.REMINDED
    assert esc.evaluate(lead, policy, at(59)).action == esc.NONE
    assert esc.evaluate(lead, policy, at(60)).action == esc.REASSIGN
    assert esc.evaluate({**lead, "reassign_count": 1}, policy, at(60)).action == esc.TO_POOL
    # a failed first contact follows the retry schedule, then goes to the pool
    failed = {**lead, "escalation": None, "last_contact_at": iso(at(5)),
              "last_outcome": "no_answer", "attempts": 1}
    assert esc.evaluate(failed, policy, at(34)).action == esc.NONE
    assert esc.evaluate(failed, policy, at(35)).action == esc.RETRY
    assert esc.evaluate({**failed, "attempts": 2}, policy, at(125)).action == esc.RETRY
    assert esc.evaluate({**failed, "attempts": 3}, policy, at(6)).action == esc.TO_POOL
    # reached: reclaimed after D days without a follow-up
    reached = {**failed, "last_outcome": "reached"}
    assert esc.evaluate(reached, policy, at(5 + 7 * 1440 - 1)).action == esc.NONE
    assert esc.evaluate(reached, policy, at(5 + 7 * 1440)).action == esc.RECLAIM
    assert esc.evaluate({**reached, "status": "qualified"}, policy, at(10**6)).action == esc.NONE
