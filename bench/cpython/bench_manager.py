"""CPython's side of the manager group: a manager dict set from the parent
and from one child, and a manager queue over TCP loopback between two
processes (the same methods as bench/cmd/mpbench/manager.go)."""
import multiprocessing as mp
import queue
import time
from multiprocessing.managers import BaseManager

from common import emit, n as count

_queue = queue.Queue()


def _get_queue():
    return _queue


class QueueManager(BaseManager):
    pass


QueueManager.register("queue", callable=_get_queue)


def _set_many(d, n):
    for i in range(n):
        d[i % 100] = i


def _get_many(address, key, n):
    m = QueueManager(address=address, authkey=key)
    m.connect()
    q = m.queue()
    for _ in range(n):
        q.get()


def bench_dict(quick):
    n = count(20000, quick)
    with mp.Manager() as m:
        d = m.dict()
        t = time.perf_counter()
        _set_many(d, n)
        emit("manager_dict_set_local", n / (time.perf_counter() - t), "op/s")
        t = time.perf_counter()
        p = mp.Process(target=_set_many, args=(d, n))
        p.start()
        p.join()
        emit("manager_dict_set_child", n / (time.perf_counter() - t), "op/s")


def bench_queue_remote(quick):
    n = count(10000, quick)
    key = b"mpbench"
    m = QueueManager(address=("127.0.0.1", 0), authkey=key)
    m.start()
    try:
        q = m.queue()
        t = time.perf_counter()
        p = mp.Process(target=_get_many, args=(m.address, key, n))
        p.start()
        for i in range(n):
            q.put(i)
        p.join()
        emit("manager_queue_put_get_remote", n / (time.perf_counter() - t), "msg/s")
    finally:
        m.shutdown()


def run(quick):
    bench_dict(quick)
    bench_queue_remote(quick)
