"""A lead the server assigned to this rep raises a local notification (the follow-up
notification centre's scheduler); the SLA reminder is urgent; logging the first contact
ends both."""

from __future__ import annotations

from desktop.followup.clock import FakeClock
from desktop.leads import service
from desktop.store import Store
from tests.followup.conftest import at, make_scheduler


def test_assigned_lead_notifies_its_owner_once_until_contacted(fstore: Store,
                                                               clock: FakeClock) -> None:
    sched = make_scheduler(fstore, clock)
    # as a pull lands it: assigned by the server to this rep (alice) a moment ago
    lead = fstore.repo("lead").create({
        "name": "王芳", "company": "星河科技", "phone": "13812345678", "status": "assigned",
        "owner": "alice", "assigned_at": at(clock, seconds=-5)})
    other = fstore.repo("lead").create({
        "name": "李雷", "email": "l@x.cn", "status": "assigned", "owner": "bob",
        "assigned_at": at(clock, seconds=-5)})
    (notice,) = sched.tick()
    assert notice.title == "New lead for you: 王芳 · 星河科技"
    assert notice.record_id == lead["id"] and not notice.urgent
    assert sched.tick() == []  # once; bob's lead is not alice's to hear about
    # the server's SLA clock reminded: an urgent notice
    fstore.repo("lead").update(lead["id"], {"escalation": "reminded"})
    (urgent,) = sched.tick()
    assert urgent.urgent and urgent.title == "Lead waiting for your first contact: 王芳 · 星河科技"
    clock.advance(minutes=1)
    service.contact(fstore, lead["id"], "reached", at=at(clock))
    states = {r[0]: r[1] for r in fstore.conn.execute(
        "SELECT kind, state FROM followup_reminder WHERE record_id = ?", (lead["id"],))}
    assert states == {"lead_new": "acted", "lead_sla": "acted"}
    assert fstore.conn.execute("SELECT count(*) FROM followup_reminder WHERE record_id = ?",
                               (other["id"],)).fetchone()[0] == 1
