package cluster_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
)

// TestWorkerForgedStatus publishes to a pool's task subject what looks
// like the engine's reply ending a pull request — an empty body with a
// Status header and no count of tasks left — while a worker with room for
// 8 tasks waits for them. Anyone who may submit can publish it. The worker
// must take it as the malformed task it is and terminate it; taken for the
// engine's reply, it would make the worker forget the 8 tasks it asked for
// and ask for 8 more, with room for 8 in all.
func TestWorkerForgedStatus(t *testing.T) {
	c := start(t, nil)
	ctx := testCtx(t)
	const pool, room = "forged", 8
	p := newPool(t, c, &cluster.PoolOptions{Name: pool})
	stream := cluster.TaskStream(pool)

	// What the worker asks the engine for and how it acknowledges tasks,
	// in the order the engine received them (one connection's).
	events := make(chan *nats.Msg, 256)
	for _, subject := range []string{"$JS.API.CONSUMER.MSG.NEXT." + stream + ".mp-workers", "$JS.ACK." + stream + ".mp-workers.>"} {
		sub, err := c.NATS().ChanSubscribe(subject, events)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}
	if err := c.NATS().Flush(); err != nil {
		t.Fatal(err)
	}

	wc, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Worker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- cluster.Work(wctx, wc, &cluster.WorkerOptions{Pool: pool, Prefetch: room - 1, Local: mp.PoolOptions{Processes: 1}})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Work = %v", err)
		}
	}()

	// asked is the number of tasks the worker asked for, published the
	// number of messages on the task subject: the engine owes the worker
	// at least asked-published tasks, which must fit in its room.
	asked, published := 0, 0
	// until reads the events until an acknowledgement with body ack.
	until := func(ack string) {
		t.Helper()
		for {
			var m *nats.Msg
			select {
			case m = <-events:
			case <-ctx.Done():
				t.Fatalf("no %s from the worker (asked for %d tasks, %d published): %v", ack, asked, published, ctx.Err())
			}
			if strings.HasPrefix(m.Subject, "$JS.ACK.") {
				if string(m.Data) == ack {
					return
				}
				continue
			}
			var req struct{ Batch int }
			if err := json.Unmarshal(m.Data, &req); err != nil {
				t.Fatalf("pull request %q: %v", m.Data, err)
			}
			asked += req.Batch
			if asked-published > room {
				t.Fatalf("the worker asked for %d tasks, %d published: it may be sent %d with room for %d", asked, published, asked-published, room)
			}
			if ack == "" {
				return
			}
		}
	}
	until("") // the first pull request
	if asked != room {
		t.Fatalf("the first pull request asks for %d tasks, want %d", asked, room)
	}

	forged := &nats.Msg{Subject: "mp.pool." + pool + ".task.ghost", Header: nats.Header{"Status": {"408"}}}
	if _, err := c.JetStream().PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	published++
	until("+TERM")

	// A real task still runs, and what the worker asks for after it
	// still fits its room.
	if got, err := mp.Apply(ctx, p, double, 21); err != nil || got != 42 {
		t.Fatalf("Apply = %d, %v; want 42", got, err)
	}
	published++
	until("+ACK")
	t.Logf("asked for %d tasks, %d published, room for %d", asked, published, room)
}
