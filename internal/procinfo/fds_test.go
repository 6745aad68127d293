package procinfo_test

import (
	"os"
	"testing"

	"github.com/mpgo/mp/internal/procinfo"
)

// TestOpenFDs opens a file and a pipe, finds them with what they refer
// to, and finds them gone once closed.
func TestOpenFDs(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := procinfo.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	if got := fds[int(f.Fd())]; got != os.DevNull {
		t.Errorf("descriptor %d of %s -> %q", f.Fd(), os.DevNull, got)
	}
	for _, p := range []*os.File{r, w} {
		if got, ok := fds[int(p.Fd())]; !ok || got == "" || got == os.DevNull {
			t.Errorf("pipe descriptor %d -> %q, %v", p.Fd(), got, ok)
		}
	}
	again, err := procinfo.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{int(f.Fd()), int(r.Fd()), int(w.Fd())} {
		if again[fd] != fds[fd] {
			t.Errorf("descriptor %d -> %q, then %q", fd, fds[fd], again[fd])
		}
	}
	closed := []int{int(f.Fd()), int(r.Fd()), int(w.Fd())}
	f.Close()
	r.Close()
	w.Close()
	after, err := procinfo.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range closed {
		if target, ok := after[fd]; ok {
			t.Errorf("closed descriptor %d still listed -> %q", fd, target)
		}
	}
}
