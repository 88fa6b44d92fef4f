"""Follow-up discipline (no Qt): reminders, the golden 72 hours, stalled deals,
pipeline rules, and delivering each reminder to its rep exactly once.

    from desktop.followup.service import scheduler_for, apply_settings
    sched = scheduler_for(store)          # on the store thread; hooks store.on_change
    sched.full_pass()                     # golden 72 h + stalled deals + task horizon (~30 min)
    notices = sched.tick()                # every minute, on start and wake: what to show now
    sched.snooze(key, 60); sched.mark_done(key); sched.mark_acted(key); sched.mark_seen(keys)
    sched.all_reminders()                 # the notification centre (every state)
    sched.pending_for(owner, due_before)  # the CLI: what is pending and why

    from desktop.followup.pipeline import check_stage_move
    check_stage_move(store, deal_or_id, "won", lang="zh") -> list[str]   # [] = allowed

    from desktop.followup.today import today_data, tooltip                # Today view data

Modules: clock (injectable clock), settings (thresholds and the valid-follow-up rule,
stored in meta), reminders (the rules and the local reminder table), scheduler
(delivery: once, quiet hours, grouping, states), pipeline (rules as records),
today (agenda, heat map), delivery (desktop-notifier, asyncio), cli_commands.
"""
