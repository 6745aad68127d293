"""CPython's side of mp's benchmarks.

Runs every bench_<group>.py module in this folder (or the groups named with
--only) and prints one `name value unit` line per figure, with the same names
and methods as bench/cmd/mpbench. Usage:

    python3 bench/cpython/run.py [--quick] [--only start,pipe,...]
"""
import importlib
import os
import sys

ORDER = ["start", "queue", "pipe", "lock", "manager", "pool", "subprocess"]


def main():
    quick = "--quick" in sys.argv
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    names = [f[len("bench_"):-3] for f in os.listdir(here)
             if f.startswith("bench_") and f.endswith(".py")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    print(f"# python {sys.version.split()[0]} cpus {os.cpu_count()}", flush=True)
    for name in names:
        if only is None or name in only:
            importlib.import_module("bench_" + name).run(quick)


if __name__ == "__main__":
    main()
