"""Helpers shared by the CPython benchmark groups."""
import statistics
import time


def emit(name, value, unit):
    print(f"{name} {value:.6g} {unit}", flush=True)


def n(full, quick):
    """full iterations, or a tenth of them (at least 1) when quick."""
    return max(1, full // 10) if quick else full


def median_time(fn, count):
    """Median wall time of count calls of fn, in seconds."""
    times = []
    for _ in range(count):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
