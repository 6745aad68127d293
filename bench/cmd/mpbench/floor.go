//go:build linux

package main

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

func init() { addGroup("floor", benchFloor) }

// benchFloor measures what this machine allows without mp, so that mp's
// figures can be read against the machine of the day: a bare
// SOCK_SEQPACKET pair moving 1 MiB datagrams and 64-byte round trips
// (blocking system calls, one thread each, reused buffers, a 4 MiB send
// buffer), and memcpy of 32 MiB (beyond the caches). It measures the
// machine, not mp, so it uses SOCK_SEQPACKET under either set of mp's
// mechanisms; other systems have a stub (floor_other.go).
func benchFloor(ctx context.Context, b *bench) error {
	if err := floorStream(b, b.n(3000), 1<<20); err != nil {
		return err
	}
	if err := floorRoundTrip(b, b.n(20000)); err != nil {
		return err
	}
	floorCopy(b, b.n(50))
	return nil
}

// seqpacketPair returns a blocking SOCK_SEQPACKET pair whose first end has
// a 4 MiB send buffer (as far as the system allows).
func seqpacketPair() ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, err
	}
	unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	return fds, nil
}

// floorStream sends n datagrams of size bytes from one thread to another.
func floorStream(b *bench, n, size int) error {
	fds, err := seqpacketPair()
	if err != nil {
		return err
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, size)
		for range n {
			if _, err := unix.Write(fds[0], buf); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, size)
	t := time.Now()
	for range n {
		if _, err := unix.Read(fds[1], buf); err != nil {
			return err
		}
	}
	dt := time.Since(t).Seconds()
	if err := <-errc; err != nil {
		return err
	}
	b.emit("floor_seqpacket_"+itoa(size)+"B_bw", float64(n*size)/dt/1e6, "MB/s")
	return nil
}

// floorRoundTrip measures the median of n 64-byte round trips between two
// threads.
func floorRoundTrip(b *bench, n int) error {
	fds, err := seqpacketPair()
	if err != nil {
		return err
	}
	defer unix.Close(fds[0])
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer unix.Close(fds[1])
		buf := make([]byte, 64)
		for {
			m, err := unix.Read(fds[1], buf)
			if err != nil || m == 0 {
				return
			}
			if _, err := unix.Write(fds[1], buf[:m]); err != nil {
				return
			}
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	msg := make([]byte, 64)
	d, err := medianTime(n, func() error {
		if _, err := unix.Write(fds[0], msg); err != nil {
			return err
		}
		_, err := unix.Read(fds[0], msg)
		return err
	})
	if err != nil {
		return err
	}
	b.emit("floor_seqpacket_roundtrip_64B", us(d), "us")
	return nil
}

// floorCopy measures copying 32 MiB from one buffer to another.
func floorCopy(b *bench, n int) {
	const size = 32 << 20
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src)
	t := time.Now()
	for range n {
		copy(dst, src)
	}
	b.emit("floor_memcpy_bw", float64(n*size)/time.Since(t).Seconds()/1e6, "MB/s")
}
