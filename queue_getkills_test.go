package mp_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/platform"
	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/shm"
)

// getKillsEnv sets how many consumers TestQueueGetKills kills inside Get
// on each kind of queue (if unset, 50 on a Queue, 20 on the others): the
// long run of the experiment sets it to 200 or more.
const getKillsEnv = "MP_QUEUE_GET_KILLS"

// killQueue is any of mp's queues of deathItems.
type killQueue interface {
	getter
	Shutdown() error
	Close() error
}

// killConsumer is the argument of a consumer of the experiment: the
// queue, the tally of deliveries (Got[id] counts the decodings of item id,
// in every process), and the consumer's two words of Slots: whether it is
// inside Get, and 1 + the id of the item it decoded in the Get under way
// (0: none).
type killConsumer[Q killQueue] struct {
	Q     Q
	Got   *shm.Array[int64]
	Slots *shm.Array[int64]
	Slot  int
}

// consumeUntilKilled gets items until the queue is shut down, keeping its
// slot true, and returns how many it got.
func consumeUntilKilled[Q killQueue](ctx context.Context, a killConsumer[Q]) (int, error) {
	got, slots := a.Got.Slice(), a.Slots.Slice()
	in, cur := &slots[2*a.Slot], &slots[2*a.Slot+1]
	onDecode = func(id int) {
		atomic.StoreInt64(cur, int64(id)+1)
		atomic.AddInt64(&got[id], 1)
	}
	n := 0
	for {
		atomic.StoreInt64(in, 1)
		v, err := a.Q.Get(ctx)
		atomic.StoreInt64(cur, 0)
		atomic.StoreInt64(in, 0)
		if errors.Is(err, mp.ErrShutDown) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if v.File != nil {
			v.File.Close()
		}
		n++
	}
}

var (
	killQueueConsumer    = mp.Register("test.killQueueConsumer", consumeUntilKilled[*mp.Queue[deathItem]])
	killJoinableConsumer = mp.Register("test.killJoinableConsumer", consumeUntilKilled[*mp.JoinableQueue[deathItem]])
	killSimpleConsumer   = mp.Register("test.killSimpleConsumer", consumeUntilKilled[*mp.SimpleQueue[deathItem]])
	killLifoConsumer     = mp.Register("test.killLifoConsumer", consumeUntilKilled[*mp.LifoQueue[deathItem]])
	killPriorityConsumer = mp.Register("test.killPriorityConsumer", consumeUntilKilled[*mp.PriorityQueue[deathItem]])
)

// getKills is the outcome of one run of the experiment.
type getKills struct {
	items, kills, outside int // kills inside Get, and between two Gets
	holding               int // kills of consumers that had decoded their item
	lost, duplicated      int
	// socketLost counts items lost that travelled through the queue's
	// socket on the portable mechanisms, where a getter killed in the few
	// microseconds between taking such an item out of the socket and
	// holding a copy aside loses it (internal/queue/sock_stream.go); lost
	// counts the others.
	socketLost int
}

// A queue's consumers killed (SIGKILL) at random moments inside Get lose
// no item and get none twice, and the queue goes on; on every kind of
// queue, with small items, large ones (on a FIFO queue through the socket,
// in a memfd) and items with a handle (FIFO queues only).
func TestQueueGetKills(t *testing.T) {
	kills := 0
	if s := os.Getenv(getKillsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of kills", getKillsEnv, s)
		}
		kills = n
	}
	or := func(n int) int {
		if kills > 0 {
			return kills
		}
		return n
	}
	t.Run("Queue", func(t *testing.T) {
		q, err := mp.NewQueue[deathItem](64)
		reportGetKills(t, runGetKills(t, q, err, killQueueConsumer, true, 4, or(50)))
	})
	t.Run("JoinableQueue", func(t *testing.T) {
		q, err := mp.NewJoinableQueue[deathItem](64)
		reportGetKills(t, runGetKills(t, q, err, killJoinableConsumer, true, 4, or(20)))
	})
	t.Run("SimpleQueue", func(t *testing.T) {
		q, err := mp.NewSimpleQueue[deathItem]()
		reportGetKills(t, runGetKills(t, q, err, killSimpleConsumer, true, 4, or(20)))
	})
	t.Run("LifoQueue", func(t *testing.T) {
		q, err := mp.NewLifoQueue[deathItem](64)
		reportGetKills(t, runGetKills(t, q, err, killLifoConsumer, false, 4, or(20)))
	})
	t.Run("PriorityQueue", func(t *testing.T) {
		q, err := mp.NewPriorityQueueFunc(64, deathItemOrder)
		reportGetKills(t, runGetKills(t, q, err, killPriorityConsumer, false, 4, or(20)))
	})
}

// reportGetKills logs r and fails t if an item was lost or delivered twice.
func reportGetKills(t *testing.T, r getKills) {
	t.Logf("%d items, %d kills inside Get (%d of them holding the item decoded), %d between Gets; %d lost, %d duplicated, %d socket items lost (portable mechanisms only)",
		r.items, r.kills, r.holding, r.outside, r.lost, r.duplicated, r.socketLost)
	if r.lost != 0 || r.duplicated != 0 {
		t.Errorf("%d items lost, %d duplicated, want none", r.lost, r.duplicated)
	}
	if r.socketLost > r.kills {
		t.Errorf("%d socket items lost to %d kills inside Get: at most one each", r.socketLost, r.kills)
	}
}

// runGetKills runs the experiment on q (made with err), with consumers
// that run fn: two producers put items on the queue while the consumers
// get them; the test stops a random consumer (SIGSTOP), looks whether it
// is inside Get, kills it (SIGKILL) and starts another in its slot, until
// it has killed kills of them inside Get. Then the queue is shut down, the
// consumers get what is left, and every item must have been delivered
// once, plus once for each consumer killed after it had decoded the item
// (its Get had not committed, and the item went to another; or it had, and
// had not returned yet). It is the entry point for longer runs, such as
// the chaos suite's: set MP_QUEUE_GET_KILLS, or call it with more kills.
func runGetKills[Q killQueue](t *testing.T, q Q, err error, fn mp.Func[killConsumer[Q], int], fifo bool, consumers, kills int) getKills {
	mptest.CheckLeaks(t)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The producers may put perStop more items for each consumer stopped
	// (so that the ids do not run out however fast the queue goes), for
	// up to 3 stops a kill inside Get.
	const perStop = 2048
	maxItems := perStop * (3*kills + 2)
	got := newSharedInts(t, maxItems)
	slots := newSharedInts(t, 2*consumers)
	rp, wp, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	defer wp.Close()

	// Two producers put the items with even and odd ids below the limit,
	// until stopProducers.
	var produced [2]atomic.Int64
	pctx, stop := context.WithCancel(ctx)
	var mu sync.Mutex
	raised := sync.NewCond(&mu)
	limit := 0 // guarded by mu
	raise := func() {
		mu.Lock()
		limit = min(limit+perStop, maxItems)
		mu.Unlock()
		raised.Broadcast()
	}
	below := func(id int) bool {
		mu.Lock()
		defer mu.Unlock()
		for id >= limit && limit < maxItems && pctx.Err() == nil {
			raised.Wait()
		}
		return id < limit && pctx.Err() == nil
	}
	allPut := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return produced[0].Load() >= int64(limit-1) && produced[1].Load() >= int64(limit)
	}
	var wg sync.WaitGroup
	stopProducers := sync.OnceFunc(func() {
		stop()
		raised.Broadcast()
		wg.Wait()
	})
	defer stopProducers()
	raise()
	for k := range produced {
		wg.Go(func() {
			for id := k; below(id); id += 2 {
				v := deathItem{ID: itemID(id)}
				switch {
				case id%16 == 3 && fifo:
					v.File = &mp.File{File: wp}
				case id%16 == 6 && fifo:
					v.Pad = make([]byte, 3<<19)
				case id%16 == 6:
					v.Pad = make([]byte, 64<<10)
				}
				if err := q.Put(pctx, v); err != nil {
					if pctx.Err() == nil {
						t.Errorf("Put(%d): %v", id, err)
					}
					return
				}
				produced[k].Store(int64(id) + 1)
			}
		})
	}

	type consumer struct {
		p    *mp.Process
		slot int
	}
	newConsumer := func(slot int) consumer {
		return consumer{start(t, mp.Command(fn, killConsumer[Q]{Q: q, Got: got, Slots: slots, Slot: slot})), slot}
	}
	var live []consumer
	for slot := range consumers {
		live = append(live, newConsumer(slot))
	}
	var r getKills
	allowed := map[int]int{} // item id: deliveries to consumers killed holding it
	sl := slots.Slice()
	for r.kills < kills {
		if r.kills+r.outside >= 3*kills {
			t.Fatalf("%d consumers stopped for %d kills inside Get", r.kills+r.outside, r.kills)
		}
		raise()
		// Stop one while there are items to get, so that most kills
		// land while an item is being got rather than waited for, or
		// once the producers have put all they may (the consumers may
		// be quicker than they are).
		waitUntil(t, "the queue holds items", func() bool { return mp.QueueLen(q) >= 16 || allPut() })
		i := rand.IntN(len(live))
		c := live[i]
		pid := c.p.Pid()
		syscall.Kill(pid, syscall.SIGSTOP)
		waitUntil(t, "the consumer stops", func() bool {
			select {
			case <-c.p.Done():
				t.Fatalf("a consumer ended: %v", c.p.Wait(ctx))
			default:
			}
			return stopped(pid)
		})
		in, cur := &sl[2*c.slot], &sl[2*c.slot+1]
		if atomic.LoadInt64(in) == 0 {
			r.outside++
		} else {
			r.kills++
		}
		if id := atomic.LoadInt64(cur); id != 0 {
			allowed[int(id-1)]++
			r.holding++
		}
		syscall.Kill(pid, syscall.SIGKILL)
		<-c.p.Done()
		atomic.StoreInt64(in, 0)
		atomic.StoreInt64(cur, 0)
		live[i] = newConsumer(c.slot)
	}
	stopProducers()
	if f, ok := any(q).(interface{ Flush(context.Context) error }); ok {
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, c := range live {
		if err := c.p.Wait(ctx); err != nil {
			t.Fatalf("a consumer: %v", err)
		}
	}
	g := got.Slice()
	for id := range maxItems {
		if int64(id) >= produced[id%2].Load() {
			continue // never put
		}
		r.items++
		n := int(atomic.LoadInt64(&g[id]))
		switch {
		case n == 0 && platform.Portable && fifo && (id%16 == 3 || id%16 == 6):
			r.socketLost++
			t.Logf("item %d, which travelled through the socket, was lost", id)
		case n == 0:
			r.lost++
			t.Logf("item %d was lost", id)
		case n > 1+allowed[id]:
			r.duplicated++
			t.Logf("item %d was delivered %d times (%d to consumers killed holding it)", id, n, allowed[id])
		}
	}
	return r
}

// newSharedInts returns n int64s in shared memory, all zero.
func newSharedInts(t *testing.T, n int) *shm.Array[int64] {
	t.Helper()
	a, err := shm.NewRawArray(make([]int64, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// stopped reports whether every thread of process pid is stopped by a
// signal. Linux shows each thread's state (/proc/<pid>/task); elsewhere
// the process table's state is the process's: macOS and FreeBSD mark it
// stopped once the stop is delivered, and suspend its threads as they next
// leave the kernel, which they do before running more of the program.
func stopped(pid int) bool {
	if runtime.GOOS != "linux" {
		info, err := procinfo.Read(pid)
		return err == nil && info.State == procinfo.Stopped
	}
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/stat")
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the command, which is in parentheses.
		_, rest, ok := strings.Cut(string(b), ") ")
		if !ok || !strings.HasPrefix(rest, "T") {
			return false
		}
	}
	return true
}
