"""Process start + join for each start method: median of repeated runs of a
child that does nothing."""
import multiprocessing as mp

from common import emit, median_time, n


def nothing():
    pass


def start_join(ctx):
    p = ctx.Process(target=nothing)
    p.start()
    p.join()


def run(quick):
    for method, count in (("fork", 50), ("spawn", 20), ("forkserver", 50)):
        ctx = mp.get_context(method)
        start_join(ctx)  # warm-up: the forkserver starts on first use
        seconds = median_time(lambda: start_join(ctx), n(count, quick))
        emit(f"process_start_join_{method}", seconds * 1e3, "ms")
