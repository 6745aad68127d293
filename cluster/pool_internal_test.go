package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPoolDropsDuplicateResults sends a task's result twice, as a worker
// that died after storing a result and before acknowledging its task
// would (the task's next worker sends it again): the first finishes the
// task, the second is dropped; then the same within one message of
// several results.
func TestPoolDropsDuplicateResults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, &Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := NewPool(ctx, c, &PoolOptions{Name: "dups"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = p.Terminate()
		_ = p.Wait(ctx)
	}()
	results := make(chan mp.TaskResult, 4)
	task := func() *mp.Task {
		return mp.NewTask("cluster_test.double", []byte{0x01}, nil, 0, time.Time{}, func(r mp.TaskResult) { results <- r })
	}
	a, b := task(), task()
	p.Execute(a, b)
	send := func(id uint64, value byte, worker string) {
		r := resultMsg{ID: id, Worker: worker, Kind: resultValue, Value: []byte{value}}
		// Distinct message ids: the engine's own deduplication does not
		// catch a result sent again after its window, or by another worker.
		m := &nats.Msg{Subject: p.names.resultSubject, Data: r.append(nil)}
		if _, err := p.js.PublishMsg(ctx, m, jetstream.WithMsgID(worker+strconv.FormatUint(id, 10))); err != nil {
			t.Fatal(err)
		}
	}
	send(a.ID, 2, "first")
	send(a.ID, 3, "second")
	send(b.ID, 4, "first") // results come in order: b's tells a's second was seen
	var got []byte
	for range 2 {
		select {
		case r := <-results:
			got = append(got, r.Value...)
		case <-ctx.Done():
			t.Fatal("no result")
		}
	}
	if string(got) != "\x02\x04" {
		t.Errorf("results %v, want [2 4]", got)
	}
	if s := p.Stats(); s.Duplicates != 1 || s.Done != 2 || s.Pending != 0 {
		t.Errorf("Stats = %+v; want 1 duplicate, 2 done", s)
	}

	// A message of several results, as a busy worker sends them, one of
	// them twice: each task finishes once (d's, last, tells the second
	// c2 was seen).
	c2, d := task(), task()
	p.Execute(c2, d)
	var encs [][]byte
	for _, r := range []resultMsg{{ID: c2.ID, Value: []byte{5}}, {ID: c2.ID, Value: []byte{7}}, {ID: d.ID, Value: []byte{6}}} {
		r.Worker, r.Kind = "third", resultValue
		encs = append(encs, r.append(nil))
	}
	m := &nats.Msg{Subject: p.names.resultSubject, Data: appendResults(nil, encs)}
	if _, err := p.js.PublishMsg(ctx, m, jetstream.WithMsgID("batch")); err != nil {
		t.Fatal(err)
	}
	got = nil
	for range 2 {
		select {
		case r := <-results:
			got = append(got, r.Value...)
		case <-ctx.Done():
			t.Fatal("no result")
		}
	}
	if string(got) != "\x05\x06" {
		t.Errorf("results %v, want [5 6]", got)
	}
	if s := p.Stats(); s.Duplicates != 2 || s.Done != 4 || s.Pending != 0 {
		t.Errorf("Stats = %+v; want 2 duplicates, 4 done", s)
	}
}
