"""The window's one background executor: serial, in order, results on the GUI thread, and no
thread left once the work is done."""

from __future__ import annotations

import functools
import threading
import time

from pytestqt.qtbot import QtBot

from app.gui_executor import WORKER_NAME, GuiExecutor


def test_work_runs_one_at_a_time_in_order_and_reports_on_the_gui_thread(qtbot: QtBot) -> None:
    executor = GuiExecutor()
    running = [0]
    most = [0]
    order: list[int] = []
    callback_threads: set[str] = set()

    def work(n: int) -> int:
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.01)
        running[0] -= 1
        return n

    def done(n: int) -> None:
        callback_threads.add(threading.current_thread().name)
        order.append(n)

    for n in range(8):
        executor.submit(functools.partial(work, n), done)
    qtbot.waitUntil(lambda: len(order) == 8, timeout=10_000)
    assert order == list(range(8)) and most[0] == 1
    assert callback_threads == {threading.main_thread().name}
    assert executor.wait_idle(5) and executor.idle()
    assert not any(t.name == WORKER_NAME for t in threading.enumerate())


def test_an_error_reaches_on_error_and_the_next_task_still_runs(qtbot: QtBot) -> None:
    executor = GuiExecutor()
    errors: list[BaseException] = []
    results: list[str] = []

    def boom() -> None:
        raise ValueError("no")

    executor.submit(boom, None, errors.append)
    executor.submit(lambda: "next", results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert isinstance(errors[0], ValueError) and results == ["next"]
