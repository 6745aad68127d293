"""CPython's side of the pool group: the same figures as bench/cmd/mpbench/pool.go."""
from multiprocessing import Pool

from common import emit, median_time, n


def square(x):
    return x * x


def length(b):
    return len(b)


BIG_ITEM = 1 << 20


def rate(name, count, fn, quick):
    """Emits count / the median time of fn, over three runs (one if quick)."""
    emit(name, count / median_time(fn, 1 if quick else 3), "task/s")


def apply_async_all(p, count):
    results = [p.apply_async(square, (i,)) for i in range(count)]
    for r in results:
        r.get()


def run(quick):
    with Pool(2) as p:
        p.map(square, range(100))  # the workers are up

        count = n(1_000_000, quick)
        rate("pool_map_default_chunks", count, lambda: p.map(square, range(count)), quick)

        count1 = n(20_000, quick)
        rate("pool_map_chunksize1", count1, lambda: p.map(square, range(count1), chunksize=1), quick)

        rate("pool_apply_async", count1, lambda: apply_async_all(p, count1), quick)

        items = [bytes(BIG_ITEM)] * n(256, quick)
        dt = median_time(lambda: p.map(length, items, chunksize=1), 1 if quick else 3)
        emit("pool_map_1MiB_bw", len(items) * BIG_ITEM / dt / 1e6, "MB/s")

        rt = median_time(lambda: p.apply(square, (3,)), n(2000, quick))
        emit("pool_apply_roundtrip", rt * 1e6, "us")

    def create_terminate():
        q = Pool(2)
        q.terminate()

    emit("pool_create_terminate_2", median_time(create_terminate, n(20, quick)) * 1e3, "ms")

    def create_map_terminate():
        q = Pool(2)
        q.map(square, range(100))
        q.terminate()

    emit("pool_create_map_terminate_2", median_time(create_map_terminate, n(20, quick)) * 1e3, "ms")
