//go:build unix

package procinfo

import (
	"os"
	"testing"
)

// TestProbeFDs checks the fallback lister: it finds what is open, and
// names a pipe unlike a file.
func TestProbeFDs(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fds, err := probeFDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{0, 1, 2} {
		if _, ok := fds[fd]; !ok {
			t.Errorf("standard descriptor %d not found", fd)
		}
	}
	null, rt, wt := fds[int(f.Fd())], fds[int(r.Fd())], fds[int(w.Fd())]
	if null == "" || rt == "" || wt == "" || rt == null || wt == null {
		t.Errorf("file -> %q, pipe ends -> %q and %q", null, rt, wt)
	}
}
