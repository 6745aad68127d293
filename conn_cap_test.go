package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// TestNetConnCap: a Conn made by Dial or Accept refuses a message of
// 64 MiB by default, over TCP and over a Unix socket, with an error
// matching ErrTooLarge; a larger cap set on it lets one through. A Pipe's
// end takes it.
func TestNetConnCap(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testContext(t)
	key := []byte("k")
	big := make([]byte, 64<<20)
	for _, tc := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"},
		{"unix", fmt.Sprintf("@mp-test-cap-%d", os.Getpid())},
	} {
		t.Run(tc.network, func(t *testing.T) {
			l := listen(t, tc.network, tc.addr, key)
			c, err := mp.Dial(ctx, tc.network, l.Addr().String(), key)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a, err := l.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			sctx, cancel := context.WithCancel(ctx)
			sent := make(chan error, 1)
			go func() { sent <- a.SendBytes(sctx, big) }()
			if _, err := c.RecvBytes(ctx, 0); !errors.Is(err, mp.ErrTooLarge) || !errors.Is(err, mp.ErrProtocol) {
				t.Errorf("RecvBytes of 64 MiB on a Dial'd Conn = %v, want ErrTooLarge", err)
			}
			cancel() // over TCP the rest of the message is never read
			<-sent

			// A cap set higher lets it through.
			a.SetMaxMessageSize(128 << 20)
			go func() { sent <- c.SendBytes(ctx, big) }()
			if got, err := a.RecvBytes(ctx, 0); err != nil || len(got) != len(big) {
				t.Errorf("RecvBytes under a cap of 128 MiB = %d bytes, %v", len(got), err)
			}
			if err := <-sent; err != nil {
				t.Errorf("SendBytes of 64 MiB = %v", err)
			}
		})
	}
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go w.SendBytes(ctx, big)
	if got, err := r.RecvBytes(ctx, 0); err != nil || len(got) != len(big) {
		t.Errorf("RecvBytes of 64 MiB on a Pipe = %d bytes, %v", len(got), err)
	}
}
