// Package fdtest makes, for tests, descriptors of the kinds a check of a
// descriptor received from another process must refuse.
package fdtest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Foreign returns descriptors, by what each is, that are none of mp's
// shared objects: both ends of a pipe, a socket, a named regular file of a
// page and a directory. They are closed when the test ends.
func Foreign(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	keep := func(name string, fd int) {
		out[name] = fd
		t.Cleanup(func() { unix.Close(fd) })
	}
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	keep("pipe's read end", p[0])
	keep("pipe's write end", p[1])
	s, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	keep("socket", s[0])
	keep("socket's peer", s[1])
	path := filepath.Join(t.TempDir(), "named")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"named file": path, "directory": filepath.Dir(path)} {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		keep(name, fd)
	}
	return out
}
