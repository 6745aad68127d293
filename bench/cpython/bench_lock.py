"""Lock figures: Lock acquire+release in one process, uncontended (the
median of five batches), and two processes each incrementing a shared
Value under its lock (total increments over the wall time from the start
signal to the end of both)."""
import multiprocessing as mp
import statistics
import time

from common import emit, n


def lock_uncontended(count):
    lock = mp.Lock()
    batch = max(count // 5, 1)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(batch):
            lock.acquire()
            lock.release()
        times.append(time.perf_counter() - t)
    emit("lock_uncontended", statistics.median(times) / batch * 1e9, "ns")


def increment(v, count):
    for _ in range(count):
        with v.get_lock():
            v.value += 1


def incr_child(v, start, done, count):
    start.wait()
    increment(v, count)
    done.release()


def value_locked_incr(count):
    v = mp.Value("q", 0)
    start = mp.Event()
    done = mp.Semaphore(0)
    p = mp.Process(target=incr_child, args=(v, start, done, count))
    p.start()
    time.sleep(0.05)  # let the child reach its wait
    t = time.perf_counter()
    start.set()
    increment(v, count)
    done.acquire()
    dt = time.perf_counter() - t
    p.join()
    assert v.value == 2 * count, v.value
    emit("value_locked_incr_2proc", 2 * count / dt, "op/s")


def run(quick):
    lock_uncontended(n(2_000_000, quick))
    value_locked_incr(n(500_000, quick))
