package connring

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/transport"
)

// A ping-pong with a child process, many times over: every reply must come
// (a wake lost between the two processes would leave both asleep).
func TestPingPongAcrossProcesses(t *testing.T) {
	a, c := echoing(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := 20000
	if testing.Short() {
		n = 2000
	}
	msg := bytes.Repeat([]byte{7}, 64)
	for i := range n {
		if i%3 == 0 {
			a.SetSpin(false)
		} else {
			a.SetSpin(true)
		}
		if err := a.Send(ctx, transport.Msg{Kind: 1, Data: msg}); err != nil {
			t.Fatalf("round %d: send: %v", i, err)
		}
		m, err := a.RecvInto(ctx, nil)
		if err != nil {
			t.Fatalf("round %d: receive: %v", i, err)
		}
		if !bytes.Equal(m.Data, msg) {
			t.Fatalf("round %d: echo differs", i)
		}
	}
	a.Close()
	c.wait()
}
