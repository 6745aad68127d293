"""Pipe figures: a 64-byte round trip to a child that echoes (the median of
its trips), and one-way streams of 1 MiB, 64 KiB and 64-byte messages to a
child that acknowledges the last (the large ones also received into one
buffer, recv_bytes_into)."""
import multiprocessing as mp
import statistics
import time

from common import emit, n


def echo(conn):
    while True:
        m = conn.recv_bytes()
        if not m:
            return
        conn.send_bytes(m)


def sink(conn, count, size, into):
    buf = bytearray(size)
    for _ in range(count):
        if into:
            conn.recv_bytes_into(buf)
        else:
            conn.recv_bytes()
    conn.send_bytes(b"done")


def round_trip(count):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b,))
    p.start()
    msg = b"x" * 64
    for _ in range(100):
        a.send_bytes(msg)
        a.recv_bytes()
    times = []
    for _ in range(count):
        t = time.perf_counter()
        a.send_bytes(msg)
        a.recv_bytes()
        times.append(time.perf_counter() - t)
    a.send_bytes(b"")
    p.join()
    emit("pipe_roundtrip_64B", statistics.median(times) * 1e6, "us")


def one_way(count, size, into=False):
    a, b = mp.Pipe()
    p = mp.Process(target=sink, args=(b, count, size, into))
    p.start()
    buf = b"x" * size
    t = time.perf_counter()
    for _ in range(count):
        a.send_bytes(buf)
    a.recv_bytes()
    dt = time.perf_counter() - t
    p.join()
    if into:
        emit(f"pipe_oneway_into_{size}B_bw", count * size / dt / 1e6, "MB/s")
        return
    emit(f"pipe_oneway_{size}B", count / dt, "msg/s")
    emit(f"pipe_oneway_{size}B_bw", count * size / dt / 1e6, "MB/s")


def run(quick):
    round_trip(n(20000, quick))
    for into in (False, True):
        one_way(n(1000, quick), 1 << 20, into)
        one_way(n(10000, quick), 64 << 10, into)
    one_way(n(200000, quick), 64)
