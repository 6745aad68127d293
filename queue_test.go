package mp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

type pipeArgs struct {
	In, Out *mp.Queue[int]
	N       int
}

type produceArgs struct {
	Q      *mp.Queue[string]
	ID, N  int
	Ending bool // put an empty string when done
}

type consumeArgs struct {
	Q    *mp.Queue[string]
	Seen *mp.Queue[int] // told after each item, if set
	Stop int            // stop after this many items, 0 for at the empty string
}

var (
	// qDouble gets N ints from In and puts twice each on Out.
	qDouble = mp.Register("test.qDouble", func(ctx context.Context, a pipeArgs) (int, error) {
		for i := range a.N {
			v, err := a.In.Get(ctx)
			if err != nil {
				return i, err
			}
			if err := a.Out.Put(ctx, 2*v); err != nil {
				return i, err
			}
		}
		return a.N, nil
	})
	// qProduce puts "ID:i" for i < N.
	qProduce = mp.Register("test.qProduce", func(ctx context.Context, a produceArgs) (int, error) {
		for i := range a.N {
			if err := a.Q.Put(ctx, fmt.Sprintf("%d:%d", a.ID, i)); err != nil {
				return i, err
			}
		}
		if a.Ending {
			return a.N, a.Q.Put(ctx, "")
		}
		return a.N, nil
	})
	// qConsume gets items until the empty string (or Stop items, then
	// blocks until killed) and returns them.
	qConsume = mp.Register("test.qConsume", func(ctx context.Context, a consumeArgs) ([]string, error) {
		var got []string
		for {
			if a.Stop > 0 && len(got) == a.Stop {
				<-ctx.Done()
				return got, nil
			}
			v, err := a.Q.Get(ctx)
			if err != nil || v == "" {
				return got, err
			}
			got = append(got, v)
			if a.Seen != nil {
				a.Seen.Put(ctx, len(got))
			}
		}
	})
)

func newQueue[T any](t *testing.T, maxsize int) *mp.Queue[T] {
	t.Helper()
	q, err := mp.NewQueue[T](maxsize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func start(t *testing.T, p *mp.Process) *mp.Process {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		<-p.Done()
		p.Close()
	})
	return p
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestQueueSameProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[any](t, 0)
	ctx := timeout(t)
	for _, v := range []any{int64(1), "aaa", []any{int64(42), nil, "hello"}} {
		if err := q.Put(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if n := q.Len(); n != 3 {
		t.Errorf("Len() = %d, want 3", n)
	}
	for _, want := range []string{"1", "aaa", "[42 <nil> hello]"} {
		v, err := q.Get(ctx)
		if err != nil || fmt.Sprint(v) != want {
			t.Errorf("Get() = %v, %v; want %s", v, err, want)
		}
	}
	if !q.Empty() || q.Len() != 0 {
		t.Errorf("Empty() = %v, Len() = %d after getting everything", q.Empty(), q.Len())
	}
}

func TestQueueAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	in, out := newQueue[int](t, 0), newQueue[int](t, 0)
	ctx := timeout(t)
	p := start(t, mp.Command(qDouble, pipeArgs{In: in, Out: out, N: 100}))
	for i := range 100 {
		in.Put(ctx, i)
	}
	for i := range 100 {
		if v, err := out.Get(ctx); err != nil || v != 2*i {
			t.Fatalf("Get() = %d, %v; want %d", v, err, 2*i)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestQueueNonBlocking(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[int](t, 2)
	if _, err := q.TryGet(); !errors.Is(err, mp.ErrEmpty) {
		t.Errorf("TryGet() on empty = %v, want ErrEmpty", err)
	}
	if q.TryPut(1) != nil || q.TryPut(2) != nil {
		t.Fatal("TryPut failed with room")
	}
	if !q.Full() || q.Len() != 2 {
		t.Errorf("Full() = %v, Len() = %d with 2 of 2", q.Full(), q.Len())
	}
	if err := q.TryPut(3); !errors.Is(err, mp.ErrFull) {
		t.Errorf("TryPut() on full = %v, want ErrFull", err)
	}
	if v, err := q.TryGet(); v != 1 || err != nil {
		t.Errorf("TryGet() = %d, %v", v, err)
	}
	if q.Full() || q.Len() != 1 {
		t.Errorf("Full() = %v, Len() = %d with 1 of 2", q.Full(), q.Len())
	}
}

func TestQueueTimeouts(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[int](t, 1)
	const d = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	_, err := q.Get(ctx)
	elapsed := time.Since(start)
	if !errors.Is(err, mp.ErrEmpty) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get() past its deadline = %v, want ErrEmpty and DeadlineExceeded", err)
	}
	if elapsed < d-time.Millisecond || elapsed > d+2*time.Second {
		t.Errorf("Get() gave up after %v, deadline %v", elapsed, d)
	}
	q.Put(context.Background(), 1)
	ctx, cancel = context.WithTimeout(context.Background(), d)
	defer cancel()
	start = time.Now()
	err = q.Put(ctx, 2)
	elapsed = time.Since(start)
	if !errors.Is(err, mp.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put() past its deadline = %v, want ErrFull and DeadlineExceeded", err)
	}
	if elapsed < d-time.Millisecond || elapsed > d+2*time.Second {
		t.Errorf("Put() gave up after %v, deadline %v", elapsed, d)
	}
	// An already-ended context still gets an item that is there.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if v, err := q.Get(ctx); err != nil || v != 1 {
		t.Errorf("Get() with an ended context on a full queue = %d, %v", v, err)
	}
}

func TestQueueBlockingPutWakesOnGet(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[string](t, 3)
	ctx := timeout(t)
	// The child blocks on the fourth put until the parent gets.
	p := start(t, mp.Command(qProduce, produceArgs{Q: q, ID: 0, N: 10}))
	for i := range 10 {
		v, err := q.Get(ctx)
		if err != nil || v != fmt.Sprintf("0:%d", i) {
			t.Fatalf("Get() = %q, %v", v, err)
		}
		if q.Len() > 3 {
			t.Fatalf("Len() = %d on a Queue(3)", q.Len())
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestQueueManyProducersConsumers(t *testing.T) {
	mptest.CheckLeaks(t)
	const producers, consumers, per = 4, 3, 300
	q := newQueue[string](t, 50)
	ctx := timeout(t)
	var prods, cons []*mp.Process
	for i := range producers {
		prods = append(prods, start(t, mp.Command(qProduce, produceArgs{Q: q, ID: i, N: per})))
	}
	for range consumers {
		cons = append(cons, start(t, mp.Command(qConsume, consumeArgs{Q: q})))
	}
	for _, p := range prods {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range consumers {
		q.Put(ctx, "")
	}
	seen := map[string]int{}
	for _, p := range cons {
		got, err := result[[]string](ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		checkPerProducerOrder(t, got)
		for _, v := range got {
			seen[v]++
		}
	}
	if len(seen) != producers*per {
		t.Errorf("%d distinct items got, want %d", len(seen), producers*per)
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("%s got %d times", v, n)
		}
	}
}

// checkPerProducerOrder checks that one consumer got each producer's items
// in the order they were put.
func checkPerProducerOrder(t *testing.T, got []string) {
	t.Helper()
	last := map[string]int{}
	for _, v := range got {
		var id, i int
		fmt.Sscanf(v, "%d:%d", &id, &i)
		key := fmt.Sprint(id)
		if prev, ok := last[key]; ok && i <= prev {
			t.Errorf("producer %d: item %d after %d", id, i, prev)
		}
		last[key] = i
	}
}

func TestQueueConsumerKilledLosesNothing(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[string](t, 0)
	seen := newQueue[int](t, 0)
	ctx := timeout(t)
	for i := range 20 {
		q.Put(ctx, fmt.Sprintf("0:%d", i))
	}
	p := start(t, mp.Command(qConsume, consumeArgs{Q: q, Seen: seen, Stop: 5}))
	for {
		n, err := seen.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 5 {
			break
		}
	}
	p.Kill()
	<-p.Done()
	if n := q.Len(); n != 15 {
		t.Errorf("Len() = %d after a consumer took 5 of 20 and was killed, want 15", n)
	}
	for i := 5; i < 20; i++ {
		if v, err := q.TryGet(); err != nil || v != fmt.Sprintf("0:%d", i) {
			t.Errorf("TryGet() = %q, %v", v, err)
		}
	}
}

func TestQueueCloseSemantics(t *testing.T) {
	mptest.CheckLeaks(t)
	q, err := mp.NewQueue[int](0)
	if err != nil {
		t.Fatal(err)
	}
	other := newQueue[*mp.Queue[int]](t, 0)
	// A second handle on the same queue, as another process would hold.
	other.Put(context.Background(), q)
	q2, err := other.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	done := make(chan error, 1)
	go func() {
		_, err := q.Get(context.Background())
		done <- err
	}()
	waitUntil(t, "the Get sleeps", func() bool { g, _, _ := mp.QueueSleepers(q); return g == 1 })
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, mp.ErrClosed) {
			t.Errorf("blocked Get() after Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the blocked Get")
	}
	if err := q.Put(context.Background(), 1); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Put() after Close = %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	// The other handle still works.
	if err := q2.Put(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if v, err := q2.Get(context.Background()); v != 7 || err != nil {
		t.Errorf("Get() on the other handle = %d, %v", v, err)
	}
}

func TestQueueChildFlushesBufferedItems(t *testing.T) {
	mptest.CheckLeaks(t)
	// 3000 items of ~1 KiB are more than the shared ring holds: the child
	// buffers most of them, and ends only once they are all delivered.
	q := newQueue[string](t, 0)
	ctx := timeout(t)
	const n = 3000
	p := start(t, mp.Command(qProduceBig, produceArgs{Q: q, N: n}))
	// Len counts what the producer buffers too: it reaches n while the
	// ring holds far fewer (polled, as the producer's pace is the machine's).
	waitUntil(t, fmt.Sprintf("Len() = %d with the producer's items buffered", n), func() bool { return q.Len() >= n })
	if l := q.Len(); l != n {
		t.Errorf("Len() = %d with the producer's items buffered, want %d", l, n)
	}
	for i := range n {
		v, err := q.Get(ctx)
		if err != nil || !strings.HasPrefix(v, fmt.Sprintf("%d:", i)) {
			t.Fatalf("item %d: %.10q, %v", i, v, err)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

var qProduceBig = mp.Register("test.qProduceBig", func(ctx context.Context, a produceArgs) (int, error) {
	pad := strings.Repeat("x", 1000)
	for i := range a.N {
		if err := a.Q.Put(ctx, fmt.Sprintf("%d:%s", i, pad)); err != nil {
			return i, err
		}
	}
	return a.N, nil
})

func TestQueueLargeItemsAndHandles(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[relayMsg](t, 0)
	ctx := timeout(t)
	a, b, err := mp.Pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	p := start(t, mp.Command(qRelay, q))
	q.Put(ctx, relayMsg{Big: big})
	q.Put(ctx, relayMsg{Conn: b})
	b.Close()
	var got string
	if err := a.Recv(ctx, &got); err != nil || got != "1 MiB ok, then a Conn" {
		t.Errorf("Recv() = %q, %v", got, err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

type relayMsg struct {
	Big  []byte
	Conn *mp.Conn
}

var qRelay = mp.Register("test.qRelay", func(ctx context.Context, q *mp.Queue[relayMsg]) (struct{}, error) {
	m, err := q.Get(ctx)
	if err != nil {
		return struct{}{}, err
	}
	first := fmt.Sprintf("%d MiB ok", len(m.Big)>>20)
	if !bytes.Equal(m.Big, bytes.Repeat([]byte("0123456789abcdef"), 1<<16)) {
		first = "1 MiB corrupt"
	}
	m, err = q.Get(ctx)
	if err != nil || m.Conn == nil {
		return struct{}{}, fmt.Errorf("second item: %v", err)
	}
	defer m.Conn.Close()
	return struct{}{}, m.Conn.Send(ctx, first+", then a Conn")
})

// job is a task for qServer: a word, and the queue to answer on.
type qJob struct {
	Word  string
	Reply *mp.Queue[string]
}

var qServer = mp.Register("test.qServer", func(ctx context.Context, jobs *mp.Queue[qJob]) (int, error) {
	n := 0
	for {
		j, err := jobs.Get(ctx)
		if err != nil || j.Word == "" {
			return n, err
		}
		j.Reply.Put(ctx, strings.ToUpper(j.Word))
		j.Reply.Close()
		n++
	}
})

func TestQueueSentToRunningProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	jobs := newQueue[qJob](t, 0)
	ctx := timeout(t)
	p := start(t, mp.Command(qServer, jobs))
	for _, w := range []string{"alpha", "beta"} {
		reply := newQueue[string](t, 0)
		jobs.Put(ctx, qJob{Word: w, Reply: reply})
		if v, err := reply.Get(ctx); err != nil || v != strings.ToUpper(w) {
			t.Errorf("reply = %q, %v", v, err)
		}
	}
	jobs.Put(ctx, qJob{})
	if n, err := result[int](ctx, p); n != 2 || err != nil {
		t.Errorf("server served %d, %v", n, err)
	}
}

func TestQueueWait(t *testing.T) {
	mptest.CheckLeaks(t)
	q1, q2 := newQueue[int](t, 0), newQueue[int](t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if ready, err := mp.Wait(ctx, q1, q2); err == nil || len(ready) != 0 {
		t.Errorf("Wait() on empty queues = %v, %v", ready, err)
	}
	// An item put while Wait sleeps wakes it.
	type waited struct {
		ready []any
		err   error
	}
	got := make(chan waited, 1)
	wctx := timeout(t)
	go func() {
		ready, err := mp.Wait(wctx, q1, q2)
		got <- waited{ready, err}
	}()
	waitUntil(t, "Wait sleeps", func() bool { return mp.WaitBlocked() == 1 })
	q2.Put(context.Background(), 1)
	if w := <-got; w.err != nil || len(w.ready) != 1 || w.ready[0] != any(q2) {
		t.Errorf("Wait() = %v, %v; want q2", w.ready, w.err)
	}
	q2.TryGet()
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ready, _ := mp.Wait(ctx, q1, q2); len(ready) != 0 {
		t.Errorf("Wait() after the item was taken = %v", ready)
	}
}

func TestQueueManyGoroutines(t *testing.T) {
	mptest.CheckLeaks(t)
	q := newQueue[int](t, 8)
	ctx := timeout(t)
	var wg sync.WaitGroup
	const per = 500
	for g := range 4 {
		wg.Go(func() {
			for i := range per {
				q.Put(ctx, g*per+i)
			}
		})
	}
	var mu sync.Mutex
	seen := make([]int, 4*per)
	for range 4 {
		wg.Go(func() {
			for range per {
				v, err := q.Get(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[v]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("item %d got %d times", v, n)
		}
	}
}

// result waits for p and returns its function's result.
func result[Out any](ctx context.Context, p *mp.Process) (Out, error) {
	if err := p.Wait(ctx); err != nil {
		var zero Out
		return zero, err
	}
	return mp.Result[Out](p)
}
