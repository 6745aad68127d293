package cluster_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestChaosPoolHostileTasks publishes, with a client identity, garbage
// into a pool's stream of tasks between real tasks: random bytes, empty
// bodies, an empty body dressed as the engine's status reply, valid
// envelopes cut short, a length that claims a terabyte, a body over the
// engine's payload limit, and valid envelopes naming functions the workers
// do not have or carrying an argument that does not decode. The workers
// survive; the real tasks all complete; the envelopes that name a
// submitter get a result with a specific error (those naming this Pool
// are dropped as results of no task it gave, and counted); the others are
// dropped by the workers, or refused by the engine; none stays in the
// stream.
func TestChaosPoolHostileTasks(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(60, 300))*time.Second)
	c := start(t, nil)
	const pool = "hostile"
	p := newPool(t, c, &cluster.PoolOptions{Name: pool, AckWait: 300 * time.Millisecond, Deliveries: 2})
	m := startMachines(t, 2, chaosWorkerArg{URL: c.URL(), Pool: pool, Processes: 1, Prefetch: 2})
	log := newRunLog(t)
	rounds := pick(3, 20)
	js := c.JetStream()

	// What the hostile client publishes, and where.
	valid := cluster.TaskEnvelope(1<<60, "ghost", "cluster_test.chaosTask", nil)
	type hostile struct {
		kind    string
		subject string // "" means a submitter of no Pool's
		data    []byte
		header  nats.Header
		reply   bool // a result is expected on the ghost's subject
	}
	var attacks []hostile
	for r := range rounds {
		junk := make([]byte, 1+mrand.IntN(200))
		_, _ = rand.Read(junk)
		cut := cluster.TaskEnvelope(uint64(r), "ghost", "cluster_test.chaosTask", []byte{0xa1, 0x61})
		attacks = append(attacks,
			hostile{kind: "random", data: junk},
			hostile{kind: "empty", data: nil},
			hostile{kind: "status", data: nil, header: nats.Header{"Status": {"408"}, "Nats-Pending-Messages": {"1000"}}},
			hostile{kind: "truncated", data: valid[:1+mrand.IntN(len(valid)-1)]},
			hostile{kind: "hugeLength", data: append([]byte{1, 1}, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f)},
			hostile{kind: "unknownFunc", data: cluster.TaskEnvelope(uint64(1000+r), "ghost", "no.such.function", nil), reply: true},
			hostile{kind: "badArg", data: cut, reply: true},
			hostile{kind: "unknownFuncOwnPool", subject: "own", data: cluster.TaskEnvelope(uint64(1<<50+r), cluster.PoolID(p), "no.such.function", nil)},
		)
	}
	oversize := hostile{kind: "oversize", data: make([]byte, 2<<20)}
	attacks = append(attacks, oversize)

	// Real tasks before, between and after the attacks.
	n := pick(30, 200)
	type real struct {
		i int
		f *mp.Future[int]
	}
	var reals []real
	submit := func(k int) {
		for range k {
			i := len(reals)
			reals = append(reals, real{i, mp.Submit(ctx, p, chaosTask, chaosArg{I: i, Log: log})})
		}
	}
	published, refused := map[string]int{}, map[string]int{}
	var refusedErrs []string
	submit(n / 3)
	for i, a := range attacks {
		subject := "mp.pool." + pool + ".task.ghost"
		if a.subject == "own" {
			subject = "mp.pool." + pool + ".task." + cluster.PoolID(p)
		}
		_, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: a.data, Header: a.header})
		if err != nil {
			refused[a.kind]++
			refusedErrs = append(refusedErrs, fmt.Sprintf("%s: %v", a.kind, err))
		} else {
			published[a.kind]++
		}
		if i == len(attacks)/2 {
			submit(n / 3)
		}
	}
	submit(n - len(reals))

	ok, bad := 0, 0
	var badErrs []string
	for _, r := range reals {
		v, err := r.f.Get(ctx)
		if err == nil && v == chaosAnswer(r.i) {
			ok++
			continue
		}
		bad++
		badErrs = append(badErrs, fmt.Sprintf("task %d: %d, %v", r.i, v, err))
	}

	// The ghost's results: one per valid envelope naming it, each with a
	// specific error.
	wantReplies := published["unknownFunc"] + published["badArg"]
	replies := ghostResults(t, ctx, c, pool, wantReplies)
	unknown, protocol, otherReply := 0, 0, 0
	for _, err := range replies {
		switch {
		case errors.Is(err, mp.ErrUnknownFunction):
			unknown++
		case errors.Is(err, mp.ErrProtocol):
			protocol++
		default:
			otherReply++
			t.Logf("a ghost's result: %v", err)
		}
	}
	left := streamLeft(t, ctx, c, pool)
	s := p.Stats()
	tl := newTally(t)
	tl.count("realTasks", n)
	tl.expect("realOK", ok, n)
	tl.expect("realFailed", bad, 0)
	for _, k := range []string{"random", "empty", "status", "truncated", "hugeLength", "unknownFunc", "badArg", "unknownFuncOwnPool", "oversize"} {
		tl.count("published."+k, published[k])
		if refused[k] > 0 {
			tl.count("refusedByEngine."+k, refused[k])
		}
	}
	tl.expect("oversizeStored", published["oversize"], 0)
	tl.expect("ghostResults", len(replies), wantReplies)
	tl.expect("ghostUnknownFunction", unknown, published["unknownFunc"])
	tl.expect("ghostProtocol", protocol, published["badArg"])
	tl.expect("ghostOtherError", otherReply, 0)
	tl.expect("ownPoolDroppedResults", int(s.Duplicates), published["unknownFuncOwnPool"])
	tl.expect("leftInStream", left, 0)
	tl.expect("workersExited", 2-m.alive(), 0)
	tl.report()
	t.Logf("refused: %v; failed: %v", refusedErrs, badErrs)
}

// ghostResults reads the results published for the submitter "ghost"
// until want have come, and returns the errors they carry (nil for a
// value, the reading's error for a message that does not read).
func ghostResults(t *testing.T, ctx context.Context, c *cluster.Cluster, pool string, want int) []error {
	t.Helper()
	cons, err := c.JetStream().CreateConsumer(ctx, cluster.ResultStream(pool), jetstream.ConsumerConfig{
		FilterSubject: "mp.pool." + pool + ".result.ghost", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var out []error
	for len(out) < want {
		m, err := cons.Next(jetstream.FetchContext(ctx))
		if err != nil {
			t.Errorf("%d of %d results of the ghost came: %v", len(out), want, err)
			return out
		}
		carried, err := cluster.ResultErrors(m.Data())
		if err != nil {
			out = append(out, err)
		}
		out = append(out, carried...)
		_ = m.Ack()
	}
	return out
}

// streamLeft waits until the pool's stream of tasks holds only its keeper
// and nothing delivered waits for an acknowledgement, and returns how
// many messages it holds past the keeper then, or when ctx ends.
func streamLeft(t *testing.T, ctx context.Context, c *cluster.Cluster, pool string) int {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := c.JetStream().Stream(ctx, cluster.TaskStream(pool))
		if err != nil {
			t.Fatal(err)
		}
		left := int(s.CachedInfo().State.Msgs) - 1
		if left <= 0 {
			return 0
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return left
		}
	}
}

// TestChaosQueueHostileItems publishes garbage into a Queue's and a
// JoinableQueue's stream between good items: Get reports a specific error
// for each bad item, and the next good item is got.
func TestChaosQueueHostileItems(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(30, 120))*time.Second)
	c := start(t, nil)
	rounds := pick(5, 50)
	for _, joinable := range []bool{false, true} {
		name := fmt.Sprintf("hostile%v", joinable)
		q, err := cluster.NewJoinableQueue[int](ctx, c, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		get := func() (int, error) {
			if !joinable {
				return q.Queue.Get(ctx)
			}
			v, err := q.Get(ctx)
			if err == nil {
				err = q.TaskDone(ctx)
			}
			return v, err
		}
		var good, protocolErrs, otherErrs, wrong int
		for r := range rounds {
			junk := make([]byte, 1+mrand.IntN(100))
			_, _ = rand.Read(junk)
			junk[0] = 0xff // never a valid item's first byte for an int
			if err := q.Put(ctx, r+1); err != nil {
				t.Fatal(err)
			}
			if _, err := c.JetStream().Publish(ctx, "mp.q."+name, junk); err != nil {
				t.Fatal(err)
			}
			if err := q.Put(ctx, -r-1); err != nil {
				t.Fatal(err)
			}
			for _, want := range []int{r + 1, 0, -r - 1} {
				v, err := get()
				switch {
				case want == 0 && errors.Is(err, mp.ErrProtocol):
					protocolErrs++
				case want == 0 || err != nil:
					otherErrs++
					t.Logf("round %d: Get = %d, %v", r, v, err)
				case v == want:
					good++
				default:
					wrong++
				}
			}
		}
		left, err := q.Len(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tl := newTally(t)
		tl.count("joinable", map[bool]int{false: 0, true: 1}[joinable])
		tl.expect("good", good, 2*rounds)
		tl.expect("badItemsProtocolError", protocolErrs, rounds)
		tl.expect("otherErrors", otherErrs, 0)
		tl.expect("wrong", wrong, 0)
		tl.expect("left", left, 0)
		tl.report()
		_ = q.Close()
	}
}

// TestChaosConnectionFlood floods an engine on loopback with connections
// that present a wrong key and with TCP connections that never speak,
// while a legitimate client keeps making round trips: no flood connection
// is accepted, the engine keeps serving, and the round trip is measured
// before and during the flood.
func TestChaosConnectionFlood(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(60, 300))*time.Second)
	c := start(t, &cluster.Options{Key: []byte("the right key")})
	wrongs, silents, workers := pick(150, 2000), pick(100, 1000), 8
	before := roundTrips(t, c, 50)

	// The silent connections: TCP only, held open until the engine closes
	// them or the test ends.
	u, err := url.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	var silentWG sync.WaitGroup
	var mu sync.Mutex
	var silentDialErrs, silentClosedByEngine int
	var conns []net.Conn
	for range silents {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			silentDialErrs++
			continue
		}
		conns = append(conns, conn)
		silentWG.Add(1)
		go func() {
			defer silentWG.Done()
			// The engine speaks first (its INFO), then closes a client
			// that never authenticates.
			if _, err := io.Copy(io.Discard, conn); err == nil {
				mu.Lock()
				silentClosedByEngine++
				mu.Unlock()
			}
		}()
	}

	// The wrong keys, from several goroutines at once, while the round
	// trips are measured.
	var accepted, refusedAuth, otherErr int
	var otherErrs []string
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				wc, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: fmt.Appendf(nil, "wrong %d", i)})
				mu.Lock()
				switch {
				case err == nil:
					accepted++
					wc.Close()
				case errors.Is(err, cluster.ErrAuthentication):
					refusedAuth++
				default:
					otherErr++
					if len(otherErrs) < 3 {
						otherErrs = append(otherErrs, err.Error())
					}
				}
				mu.Unlock()
			}
		}()
	}
	during := make(chan []time.Duration, 1)
	go func() { during <- roundTrips(t, c, 50) }()
	for i := range wrongs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	flood := <-during
	// The engine still serves a client that has the key, with JetStream.
	other, err := cluster.Connect(ctx, c.URL(), &cluster.ConnectOptions{Key: []byte("the right key")})
	servedAfter := 0
	if err == nil {
		if _, err = other.JetStream().AccountInfo(ctx); err == nil {
			servedAfter = 1
		}
		other.Close()
	}
	if err != nil {
		t.Errorf("a client with the key after the flood: %v", err)
	}
	silentWG.Wait()
	for _, conn := range conns {
		conn.Close()
	}

	tl := newTally(t)
	tl.count("wrongKeyConnects", wrongs)
	tl.expect("accepted", accepted, 0)
	tl.expect("refusedAuthentication", refusedAuth, wrongs)
	tl.expect("otherErrors", otherErr, 0)
	tl.count("silentConns", silents)
	tl.expect("silentDialErrors", silentDialErrs, 0)
	tl.expect("silentClosedByEngine", silentClosedByEngine, silents-silentDialErrs)
	tl.expect("servedAfter", servedAfter, 1)
	tl.expect("roundTripsFailedDuring", 50-len(flood), 0)
	tl.report()
	t.Logf("round trip before: median %v, max %v; during the flood: median %v, max %v; other errors: %v",
		median(before), slices.Max(before), median(flood), maxOr0(flood), otherErrs)
}

// roundTrips makes n round trips to the engine on c (a JetStream request,
// which the engine answers itself) and returns their durations.
func roundTrips(t *testing.T, c *cluster.Cluster, n int) []time.Duration {
	var out []time.Duration
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t0 := time.Now()
		_, err := c.JetStream().AccountInfo(ctx)
		cancel()
		if err != nil {
			continue
		}
		out = append(out, time.Since(t0))
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(time.Microsecond)
}

func maxOr0(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds).Round(time.Microsecond)
}
