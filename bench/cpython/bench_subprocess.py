"""subprocess.run of the smallest commands: the anchor for mp's subprocess group."""
import subprocess

from common import emit, median_time, n


def run(quick):
    count = n(300, quick)
    emit("subprocess_run_true",
         median_time(lambda: subprocess.run(["true"]), count) * 1e3, "ms")

    def capture():
        out = subprocess.run(["echo", "hello"], stdout=subprocess.PIPE).stdout
        assert out == b"hello\n", out

    emit("subprocess_run_capture_echo", median_time(capture, count) * 1e3, "ms")
