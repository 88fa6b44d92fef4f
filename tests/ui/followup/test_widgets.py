"""The follow-up widgets: Today panel (agenda, warnings, stalled, heat map), the
notification centre, the pipeline rules editor and tray fallback delivery."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from desktop.store import Store
from desktop.store.hlc import HybridClock
from tests.ui.helpers import settle, shot


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(store: Store) -> None:
    """Records as a rep's week leaves them (times relative to now)."""
    from desktop.followup.settings import FollowupSettings, save_settings

    now = dt.datetime.now(dt.UTC)
    store.set_user("alice")
    # No quiet hours: what is delivered must not depend on the hour the test runs at.
    save_settings(store, FollowupSettings(quiet_start="00:00", quiet_end="00:00"))
    real = store.clock
    past = int((now - dt.timedelta(hours=50)).timestamp() * 1000)
    store.clock = HybridClock(store.device_id, None, now_ms=lambda: past)
    store.repo("account").create({"name": "杭州云栖科技有限公司"})
    store.repo("deal").create({"title": "Fleet telematics renewal", "stage": "proposal",
                               "stage_changed_at": iso(now - dt.timedelta(days=12)),
                               "amount": 480000})
    store.clock = HybridClock(store.device_id, store.clock.last)
    del real
    acts = store.repo("activity")
    for i, (hours, subject) in enumerate([(-30, "Send revised quote to 王总"),
                                          (-2, "Call back Shenzhen distributor"),
                                          (-50, "Visit 苏州工业园 site"),
                                          (-75, "Confirm delivery date"),
                                          (-100, "Prepare demo")]):
        acts.create({"kind": "task", "subject": subject,
                     "due_at": iso(now + dt.timedelta(hours=hours, minutes=i))})
    acts.create({"kind": "task", "subject": "Contract review with legal",
                 "due_at": iso(now + dt.timedelta(minutes=20))})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_today_panel_and_centre_show_the_week(qtbot: Any, make_ctx: Any, lang: str) -> None:
    from desktop.ui.followup.centre import NotificationCentre
    from desktop.ui.followup.notify import FollowupNotifier
    from desktop.ui.followup.today_panel import FollowupPanel

    ctx = make_ctx(lang)
    ctx.run_and_wait(seed)
    notifier = FollowupNotifier(ctx)  # no asyncio loop running here: the tray fallback path
    fallbacks: list[Any] = []
    notifier.fell_back.connect(fallbacks.append)
    notifier.full_pass()
    notifier.tick()
    settle(qtbot, ctx)
    # Missed reminders on start arrive once, as one grouped notice.
    assert len(fallbacks) == 1 and fallbacks[0].grouped
    notifier.tick()
    settle(qtbot, ctx)
    assert len(fallbacks) == 1

    panel = FollowupPanel(ctx)
    counts: list[dict[str, int]] = []
    panel.counts_changed.connect(counts.append)
    qtbot.addWidget(panel)
    panel.resize(900, 640)
    panel.show()
    settle(qtbot, ctx)
    assert counts[-1]["overdue"] == 5 and counts[-1]["warnings"] == 2 and counts[-1]["stalled"] == 1
    warned = [panel.lists["warnings"].item(i).text() for i in range(2)]
    assert any(t.endswith("杭州云栖科技有限公司") for t in warned)  # account and deal both
    assert sum(map(sum, panel.heatmap.grid)) >= 4
    stalled = panel.lists["stalled"].item(0).text()
    assert stalled == ("Fleet telematics renewal · 方案报价 · 12 天" if lang == "zh"
                       else "Fleet telematics renewal · Proposal · 12 days")
    title = panel.boxes["overdue"].title()
    assert title == ("逾期（5）" if lang == "zh" else "Overdue (5)")
    shot(panel, f"followup_today_{lang}")

    centre = NotificationCentre(ctx)
    qtbot.addWidget(centre)
    centre.resize(820, 360)
    centre.show()
    settle(qtbot, ctx)
    states = {p.state for p in centre.items}
    assert "seen" in states and "delivered" not in states  # showing the centre marks them seen
    centre.tree.setCurrentItem(centre.tree.topLevelItem(0))
    first = centre.items[0]
    centre.snooze_btn.click()
    settle(qtbot, ctx)
    assert next(p for p in centre.items if p.key == first.key).state == "snoozed"
    shot(centre, f"followup_centre_{lang}")


def test_rules_editor_saves_rules_as_records(qtbot: Any, make_ctx: Any) -> None:
    from desktop.followup.pipeline import load_rules
    from desktop.ui.followup.rules_editor import PipelineRulesEditor

    for lang in ("en", "zh"):
        ctx = make_ctx(lang)
        editor = PipelineRulesEditor(ctx)
        qtbot.addWidget(editor)
        editor.resize(900, 300)
        editor.show()
        settle(qtbot, ctx)
        assert editor.table.rowCount() == 3
        assert editor.table.item(1, 2).text() == "contract, field:amount, field:signed_amount"
        shot(editor, f"followup_rules_{lang}")
    editor.table.item(1, 4).setText("先上传合同")
    editor.save_btn.click()
    settle(qtbot, ctx)
    assert editor.status.text() == "已保存。"
    saved = ctx.run_and_wait(load_rules)
    assert "先上传合同" in [r.message_zh for r in saved]
    assert ctx.run_and_wait(lambda s: s.repo("pipeline_rule").page(limit=10)), \
        "rules are store records"


def test_buttons_on_a_native_notification_act_on_the_reminder(qtbot: Any, make_ctx: Any) -> None:
    from desktop.followup.service import scheduler_for
    from desktop.ui.followup.notify import FollowupNotifier

    ctx = make_ctx("en")
    ctx.run_and_wait(seed)
    notifier = FollowupNotifier(ctx)
    shown: list[Any] = []
    notifier.notices_shown.connect(shown.extend)
    notifier.full_pass()
    notifier.tick()
    settle(qtbot, ctx)
    (group,) = shown
    assert group.grouped and len(group.keys) >= 3
    first = group.keys[0]
    with qtbot.waitSignal(notifier.open_requested) as opened:
        notifier._pressed("open", (first,))  # what desktop-notifier calls on a button press
    assert opened.args[0] in ("activity", "account", "deal") and opened.args[1]
    notifier._pressed("snooze", group.keys[1:])
    settle(qtbot, ctx)
    states = ctx.run_and_wait(lambda s: {p.key: p.state for p in scheduler_for(s).all_reminders()})
    assert states[first] == "acted"
    assert {states[k] for k in group.keys[1:]} == {"snoozed"}


def test_admin_edits_and_saves_rules_as_records(qtbot: Any, make_ctx: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop import schema
    from desktop.followup.pipeline import ENTITY, PIPELINE_RULE_FIELDS, load_rules
    from desktop.ui.followup.rules_editor import PipelineRulesEditor

    monkeypatch.setitem(schema.ENTITIES, ENTITY, schema.Entity(
        ENTITY, "Pipeline rule", "销售流程规则", PIPELINE_RULE_FIELDS, owned=False))
    ctx = make_ctx("en")
    editor = PipelineRulesEditor(ctx)
    qtbot.addWidget(editor)
    editor.show()
    settle(qtbot, ctx)
    editor.table.item(2, 3).setText("500,000")
    editor.add_rule()
    editor.table.item(3, 0).setText("Negotiation needs a close date")
    editor.table.cellWidget(3, 1).setCurrentIndex(3)  # negotiation
    editor.table.item(3, 2).setText("field:close_date")
    editor.save_btn.click()
    settle(qtbot, ctx)
    assert editor.status.text() == "Saved."
    rules = ctx.run_and_wait(load_rules)
    assert [(r.stage, r.requires, r.min_amount) for r in rules][2:] == [
        ("won", ("from:legal_review",), 500000.0), ("negotiation", ("field:close_date",), None)]
    assert all(r.id for r in rules)
    editor.table.item(3, 2).setText("signature")
    editor.save_btn.click()
    settle(qtbot, ctx)
    assert "'signature' is not a requirement" in editor.status.text()


def test_settings_form_saves_thresholds_and_refuses_nonsense(qtbot: Any, make_ctx: Any) -> None:
    from desktop.followup.service import scheduler_for
    from desktop.ui.followup.settings_form import FollowupSettingsForm

    for lang in ("zh", "en"):
        ctx = make_ctx(lang)
        form = FollowupSettingsForm(ctx)
        qtbot.addWidget(form)
        form.resize(760, 640)
        form.show()
        settle(qtbot, ctx)
        assert form.warn.value() == 48 and form.quiet_start.time().toString("HH:mm") == "22:00"
        # not an admin: the rule is shown, read-only, with who sets it
        assert not form.warn.isEnabled() and not form.add_btn.isVisible()
        assert form.criteria.rowCount() == 4
        assert ("管理员" if lang == "zh" else "administrator") in form.rule_note.text()
        shot(form, f"followup_settings_{lang}")
    form.lead.setValue(20)
    form.manager.setText("manager.li")
    form.save_btn.click()
    settle(qtbot, ctx)
    assert form.status.text() == "Saved."
    used = ctx.run_and_wait(lambda s: scheduler_for(s).settings)
    assert (used.task_lead_minutes, used.manager, used.golden_warn_hours) == (
        20, "manager.li", 48)
    # the user's time zone: times are shown and typed in it from the save on
    from desktop.ui.common.formatting import local_time, set_viewer_zone

    form.zone.setCurrentIndex(form.zone.findData("America/New_York"))
    form.save_btn.click()
    settle(qtbot, ctx)
    try:
        assert ctx.run_and_wait(lambda s: scheduler_for(s).settings.time_zone) == (
            "America/New_York")
        assert local_time("2026-07-15T14:00:00Z") == "2026-07-15 10:00"
        form.zone.setEditText("Mars/Olympus")  # typed: refused with the reason
        form.save_btn.click()
        settle(qtbot, ctx)
        assert "'Mars/Olympus' is not a time zone" in form.status.text()
    finally:
        set_viewer_zone("")


def test_an_admin_edits_the_follow_up_rule_in_the_settings_form(qtbot: Any,
                                                                make_ctx: Any) -> None:
    from desktop.followup import rule
    from desktop.followup.service import scheduler_for
    from desktop.sync.auth import Account, save_account
    from desktop.ui.followup.settings_form import FollowupSettingsForm

    ctx = make_ctx("en")
    ctx.run_and_wait(lambda s: save_account(s, Account("http://127.0.0.1:1", "root",
                                                       s.device_id, "admin")))
    form = FollowupSettingsForm(ctx)
    qtbot.addWidget(form)
    form.resize(760, 640)
    form.show()
    settle(qtbot, ctx)
    assert form.warn.isEnabled() and form.add_btn.isVisible()
    assert "administrator" in form.rule_note.text()
    form.warn.setValue(80)  # after the 72-hour overdue: refused, and told why
    form.save_btn.click()
    settle(qtbot, ctx)
    assert form.status.text() == ("The follow-up warning must come before the overdue time "
                                  "(80 h is not before 72 h).")
    assert ctx.run_and_wait(lambda s: rule.current_rule(s).id) is None
    form.warn.setValue(12)
    form.overdue.setValue(24)
    form.required.setValue(1)
    for r in range(form.criteria.rowCount() - 1, 0, -1):  # keep the first, call_90s
        form.criteria.selectRow(r)
        form.remove_btn.click()
    form.criteria.item(0, 2).setText("30")
    form.add_btn.click()
    form.criteria.item(1, 0).setText("demo")
    form.criteria.item(1, 4).setText("demo，演示")
    form.save_btn.click()
    settle(qtbot, ctx)
    assert form.status.text() == "Saved."
    got = ctx.run_and_wait(rule.current_rule)
    assert [(c.name, c.min_duration_s, c.outcomes) for c in got.criteria] == [
        ("call_90s", 30, ()), ("demo", 0, ("demo", "演示"))]
    assert (got.required_criteria, got.golden_warn_hours, got.golden_overdue_hours) == (
        1, 12, 24)
    assert ctx.run_and_wait(lambda s: scheduler_for(s).settings.golden_overdue_hours) == 24
    form.criteria.item(1, 1).setText("fax")  # not an activity kind: refused, told why
    form.save_btn.click()
    settle(qtbot, ctx)
    assert "'fax' is not one of" in form.status.text()


def test_a_rep_reads_the_rule_s_criteria_in_chinese(qtbot: Any, make_ctx: Any) -> None:
    from desktop.ui.followup.settings_form import FollowupSettingsForm

    ctx = make_ctx("zh")
    form = FollowupSettingsForm(ctx)
    qtbot.addWidget(form)
    form.resize(760, 640)
    form.show()
    settle(qtbot, ctx)
    shown = [(form.criteria.item(r, 0).text(), form.criteria.item(r, 1).text())
             for r in range(form.criteria.rowCount())]
    assert shown == [("通话满 90 秒", "电话"), ("拜访并附照片", "拜访"), ("客户有回复", ""),
                     ("已发报价", "")]
    assert not form.warn.isEnabled() and "管理员" in form.rule_note.text()
    assert [c["name"] for c in form.edited_criteria()] == [
        "call_90s", "visit_photo", "customer_reply", "quote_sent"]
    shot(form, "followup_settings_rep_zh")


def test_reminders_and_the_board_call_stages_by_the_same_chinese_names() -> None:
    from desktop.followup.pipeline import stage_label
    from desktop.schema import STAGES
    from desktop.ui.common.catalog_zh import ZH

    for stage in STAGES:
        assert stage_label(stage, "zh") == ZH[stage_label(stage, "en")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_managers_today_panel_lists_the_managers_tasks_among_the_teams(
        qtbot: Any, make_ctx: Any, lang: str) -> None:
    """A manager's book holds every rep's tasks, thousands never closed: the panel still
    lists the manager's own (and nobody's), and none of the reps'."""
    from desktop.ui.followup.today_panel import FollowupPanel

    def team_book(store: Any) -> None:
        store.set_user("boss")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        store.repo("activity").import_many([
            {"kind": "task", "subject": f"Rep task {i}", "owner": f"rep{i % 40:02d}",
             "due_at": iso(now - dt.timedelta(days=60, minutes=i))} for i in range(2000)])
        for hours, subject, owner in (
                (-26, "回访新疆生产建设兵团第十二师三坪农场五一农场联合农业机械化服务专业合作社",
                 "boss"),
                (-2, "Sign the Shenzhen framework contract", "boss"),
                (-1, "无人负责的任务", ""),
                (3, "Rep03's call this afternoon", "rep03")):
            store.repo("activity").create({"kind": "task", "subject": subject, "owner": owner,
                                           "due_at": iso(now + dt.timedelta(hours=hours))})

    ctx = make_ctx(lang)
    ctx.run_and_wait(team_book, timeout=60)
    panel = FollowupPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 640)
    panel.show()
    settle(qtbot, ctx)
    overdue = [panel.lists["overdue"].item(i).text()
               for i in range(panel.lists["overdue"].count())]
    assert len(overdue) == 3 and not any("Rep" in t for t in overdue)
    assert any("Shenzhen framework" in t for t in overdue)
    assert any("无人负责" in t for t in overdue)
    assert panel.boxes["overdue"].title() == ("逾期（3）" if lang == "zh" else "Overdue (3)")
    shot(panel, f"followup_today_manager_{lang}")
