"""CPython's side of the remote tasks group: a task master (a BaseManager
server over TCP loopback with an authkey, serving a task queue and a result
queue) and worker programs started separately, which connect by address
and key and loop: get a task, put its result. The same figures as
cluster/cmd/mpclusterbench:

  remote_task_roundtrip_p50 / _p90   one task at a time, 1 worker process
  remote_tasks_w1 / _w4              tasks/s end to end, 64-byte payloads

Run alone (python3 bench_remote_tasks.py [--quick]) or through run.py.
"""
import os
import queue
import subprocess
import sys
import time
from multiprocessing.managers import BaseManager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, n as count  # noqa: E402

AUTHKEY = b"mp remote tasks bench"
PAYLOAD = bytes(64)

_task_queue = queue.Queue()
_result_queue = queue.Queue()


def _tasks():
    return _task_queue


def _results():
    return _result_queue


class MasterManager(BaseManager):
    pass


MasterManager.register("tasks", callable=_tasks)
MasterManager.register("results", callable=_results)


class WorkerManager(BaseManager):
    pass


WorkerManager.register("tasks")
WorkerManager.register("results")


def work(port):
    """A worker program: take tasks until a None, put each one back."""
    m = WorkerManager(address=("127.0.0.1", port), authkey=AUTHKEY)
    m.connect()
    tasks, results = m.tasks(), m.results()
    while True:
        task = tasks.get()
        if task is None:
            break
        results.put(task)


def spawn(port, k):
    me = os.path.abspath(__file__)
    return [subprocess.Popen([sys.executable, me, "--work", str(port)]) for _ in range(k)]


def stop(tasks, procs):
    for _ in procs:
        tasks.put(None)
    for p in procs:
        p.wait(timeout=60)


def run(quick):
    n = count(5000, quick)
    trips = count(1000, quick)
    m = MasterManager(address=("127.0.0.1", 0), authkey=AUTHKEY)
    m.start()
    try:
        port = m.address[1]
        tasks, results = m.tasks(), m.results()
        procs = spawn(port, 1)
        times = []
        for i in range(trips + trips // 10):
            start = time.perf_counter()
            tasks.put((i, PAYLOAD))
            results.get()
            if i >= trips // 10:  # the first ones warm up
                times.append(time.perf_counter() - start)
        times.sort()
        emit("remote_task_roundtrip_p50", times[len(times) // 2] * 1e6, "us")
        emit("remote_task_roundtrip_p90", times[len(times) * 9 // 10] * 1e6, "us")
        for k in (1, 4):
            if k != len(procs):
                stop(tasks, procs)
                procs = spawn(port, k)
                for i in range(4 * k):  # warm the new workers up
                    tasks.put((i, PAYLOAD))
                for _ in range(4 * k):
                    results.get()
            start = time.perf_counter()
            for i in range(n):
                tasks.put((i, PAYLOAD))
            for _ in range(n):
                results.get()
            emit(f"remote_tasks_w{k}", n / (time.perf_counter() - start), "task/s")
        stop(tasks, procs)
    finally:
        m.shutdown()


if __name__ == "__main__":
    if "--work" in sys.argv:
        work(int(sys.argv[sys.argv.index("--work") + 1]))
    else:
        print(f"# python {sys.version.split()[0]} cpus {os.cpu_count()}", flush=True)
        run("--quick" in sys.argv)
