//go:build linux && !mpportable

package transport

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"golang.org/x/sys/unix"
)

// A peer that offers a plain file as a large message's memfd is refused:
// reading it could block, or it could change while read.
func TestLargeMessageNeedsSealedMemfd(t *testing.T) {
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	f, err := os.CreateTemp(t.TempDir(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(make([]byte, 1<<16))
	var hdr [headerLen]byte
	putHeader(&hdr, 1, flagMemfd, 0, 1<<16)
	a.Control(func(fd int) {
		if err := unix.Sendmsg(fd, hdr[:], unix.UnixRights(int(f.Fd())), nil, 0); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := b.Recv(context.Background()); !errors.Is(err, errs.ErrProtocol) {
		t.Fatalf("Recv of a large message in a plain file = %v, want ErrProtocol", err)
	}
	// A real one still works.
	go a.Send(context.Background(), Msg{Data: make([]byte, 9<<20)})
	if m, err := b.Recv(context.Background()); err != nil || len(m.Data) != 9<<20 {
		t.Fatalf("Recv of a real large message = %d bytes, %v", len(m.Data), err)
	}
}
