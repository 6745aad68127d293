// Package bellfd makes bells: one descriptor, shared by processes that pass
// it to each other, that any of them rings to wake sleepers in all of them.
//
// A bell is readable once rung, until silenced. Sleepers wait for it in an
// edge-triggered poller (Go's: epoll on Linux, kqueue with EV_CLEAR on
// macOS and FreeBSD), and each ring must wake them even when the bell is
// readable already: every ring is a write to the file, and both pollers
// report every write to a sleeper, not only the first.
//
// On Linux a bell is an eventfd: a ring adds one to its counter, a silence
// reads it back to zero. On the portable set it is a FIFO, made with
// mkfifo(2) under a new name in memfile.ScratchDir, opened O_RDWR (so that
// it always has a writer and a reader, and never reports end of file or
// hang-up) and unlinked at once; it travels between processes like any
// descriptor. POSIX leaves opening a FIFO for reading and writing
// undefined; the three systems define it: Linux fifo(7) ("opening a FIFO
// for read and write will succeed both in blocking and nonblocking mode"),
// and the BSD fifofs that FreeBSD and macOS share (fifo_open in FreeBSD's
// sys/fs/fifofs/fifo_vnops.c counts such an open as a reader and a writer,
// so that it neither blocks nor fails with ENXIO). A ring writes one
// byte; a silence drains the FIFO. A FIFO holds a bounded number of bytes
// (64 KiB on Linux, less on macOS): a ring that finds it full takes a few
// bytes out, leaving it readable, and writes again, so that it still wakes
// sleepers. On Linux, a write to a pipe wakes epoll sleepers whether or not
// the pipe was empty since Linux 5.14 (earlier kernels woke them only when
// it was): the portable set needs a recent kernel there.
package bellfd
