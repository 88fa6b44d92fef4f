"""The cyclic collector is held off during bulk work and always comes back."""

from __future__ import annotations

import gc
import threading

import pytest

from desktop.store.gcpause import collector_paused


def test_nested_and_concurrent_holders_turn_it_back_on_once_all_are_out() -> None:
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other_holder() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other_holder)
    with collector_paused():
        t.start()
        inside.wait(5)
        with collector_paused():
            assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still holds it
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_an_error_inside_still_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the import failed")
    assert gc.isenabled()


def test_a_collector_the_program_had_turned_off_stays_off() -> None:
    # the app turns automatic collection off (desktop.ui.common.main_thread_gc)
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collect_young_frees_a_pages_cycles_while_the_collector_is_held() -> None:
    import weakref

    from desktop.store.gcpause import collect_young

    class Page:
        pass

    with collector_paused():
        page = Page()
        page.me = page  # type: ignore[attr-defined]  # a cycle, as an HTTP response holds
        gone = weakref.ref(page)
        del page
        for _ in range(5000):  # allocations that would have run the collector
            [object()]
        assert gone() is not None  # held: nothing collected it
        collect_young()
        assert gone() is None
        assert not gc.isenabled()
