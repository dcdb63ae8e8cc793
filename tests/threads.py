"""Running the same work in several threads at the same moment."""

import threading

from django.db import connection


def run_in_threads(count: int, work) -> list:
    """Start `work(index)` in `count` threads released together by a barrier.

    Returns each thread's result or the exception it raised. Each thread
    closes its own database connection (TECH-NOTES §7).
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
