"""Queue figures: a child puts a ready item, N items of 8 B, 1 KiB or 1 MiB,
then an end marker; the parent gets from the ready item to the marker."""
import multiprocessing as mp
import time

from common import emit, n


def producer(q, count, size):
    item = b"x" * size
    q.put(b"")
    for _ in range(count):
        q.put(item)
    q.put(b"")


def one_way(name, count, size, bw):
    q = mp.Queue()
    p = mp.Process(target=producer, args=(q, count, size))
    p.start()
    q.get()
    t = time.perf_counter()
    got = 0
    while True:
        m = q.get()
        if not m:
            break
        got += 1
    dt = time.perf_counter() - t
    p.join()
    if bw:
        emit(name, got * size / dt / 1e6, "MB/s")
    else:
        emit(name, got / dt, "msg/s")


def run(quick):
    one_way("queue_8B", n(400000, quick), 8, False)
    one_way("queue_1KiB", n(200000, quick), 1 << 10, False)
    one_way("queue_1MiB_bw", n(1000, quick), 1 << 20, True)
