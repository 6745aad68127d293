package chaos

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

// A consumer's slot says where it is, so that a consumer stopped with
// SIGSTOP can be told to be inside Get or not.
const (
	slotOutside = 0 // between Gets
	slotInGet   = 1 // inside Get
	slotLogging = 2 // Get returned an item, not yet logged
)

// item is what QueueKill's queue carries: an id, and for every eighth id a
// padding of bulkPad bytes, which takes the item through the queue's bulk
// ring (copied in and out without the queue's lock). Its decoding in a
// consumer (inside Get, before its removal commits) is noted by onDecode,
// and fails if the padding is not the item's own: a torn or mixed copy
// makes the item lost.
type item struct {
	id  int
	pad []byte
}

// itemWire is an item's encoding.
type itemWire struct {
	_   struct{} `cbor:",toarray"`
	ID  int
	Pad []byte
}

// bulkPad is the padding of every eighth item: over the 64 KiB a queue
// keeps in its main ring.
const bulkPad = 100 << 10

// newItem returns the item of id, padded if its turn: the padding is the
// id's eight bytes, over and over, so that no two items' paddings agree.
func newItem(id int) item {
	if id%8 != 7 {
		return item{id: id}
	}
	return item{id: id, pad: bytes.Repeat(binary.LittleEndian.AppendUint64(nil, uint64(id)), bulkPad/8)}
}

// onDecode, in a consumer, notes the id of the item it decoded in the Get
// under way.
var onDecode = func(int) {}

func (x item) MarshalCBOR() ([]byte, error) { return cbor.Marshal(itemWire{ID: x.id, Pad: x.pad}) }

// UnmarshalCBOR decodes the item, checks its padding and notes its id, so
// that the experiment knows which item a consumer killed inside Get had
// in hand.
func (x *item) UnmarshalCBOR(data []byte) error {
	var w itemWire
	if err := cbor.Unmarshal(data, &w); err != nil {
		return err
	}
	if want := newItem(w.ID); !bytes.Equal(w.Pad, want.pad) {
		return fmt.Errorf("item %d: %d bytes of padding, not its own", w.ID, len(w.Pad))
	}
	*x = item{id: w.ID, pad: w.Pad}
	onDecode(w.ID)
	return nil
}

// consumerArg is what a consumer of QueueKill gets.
type consumerArg struct {
	Q     *mp.Queue[item]
	Slots *shm.Array[int64] // two words a consumer: where it is, 1 + the id it decoded
	Slot  int
	Log   string
}

// consumer takes items until the queue is shut down, logging each with one
// append, and says in its slot where it is.
var consumer = mp.Register("chaos.consumer", func(ctx context.Context, a consumerArg) (struct{}, error) {
	f, err := os.OpenFile(a.Log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return struct{}{}, err
	}
	defer f.Close()
	slot, held := &a.Slots.Slice()[2*a.Slot], &a.Slots.Slice()[2*a.Slot+1]
	onDecode = func(id int) { atomic.StoreInt64(held, int64(id)+1) }
	for {
		atomic.StoreInt64(slot, slotInGet)
		x, err := a.Q.Get(ctx)
		if err != nil {
			atomic.StoreInt64(slot, slotOutside)
			if errors.Is(err, mp.ErrShutDown) {
				return struct{}{}, nil
			}
			return struct{}{}, err
		}
		atomic.StoreInt64(slot, slotLogging)
		_, err = f.Write([]byte(strconv.Itoa(x.id) + "\n"))
		atomic.StoreInt64(held, 0)
		atomic.StoreInt64(slot, slotOutside)
		if err != nil {
			return struct{}{}, err
		}
		// Some work outside Get, so that kills can land there too.
		time.Sleep(time.Duration(rand.IntN(100)) * time.Microsecond)
	}
})

// queueRun is the state of one QueueKill run.
type queueRun struct {
	arg       consumerArg
	consumers []*mp.Process // the live ones, by position
	slots     []int         // their slots
	next      int           // the next free slot
	inside    int           // kills that found the victim inside Get
	outside   int           // and outside
	held      map[int]bool  // ids that victims killed inside Get had decoded
}

// QueueKill runs 2 producers and 4 consumer processes over one queue (every
// eighth item large enough to go through its bulk ring) and
// SIGKILLs consumers, half of the kills while the victim is inside Get and
// half outside (it stops a consumer with SIGSTOP, reads where it is, and
// kills it or lets it go on), replacing each. It counts items lost, items
// taken twice, and consumers that did not finish once the queue was shut
// down (a wedge).
func QueueKill(ctx context.Context, cfg Config) (r Row) {
	items, kills := cfg.pick(20000, 100000), cfg.pick(40, 40)
	dir, cleanup, err := tempDir(cfg)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	defer cleanup()
	run, err := newQueueRun(filepath.Join(dir, "queue-log"), kills)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	defer run.close()
	for range 4 {
		if err := run.startConsumer(-1); err != nil {
			r.fail("%v", err)
			return r
		}
	}
	tick := make(chan struct{}, kills+1)
	var wg sync.WaitGroup
	perr := run.produce(ctx, &wg, items, kills, tick)
	for k := range kills {
		<-tick
		if err := run.kill(ctx, k%2 == 0); err != nil {
			r.fail("%v", err)
			break
		}
	}
	wg.Wait()
	for _, err := range perr {
		if err != nil {
			r.fail("producer: %v", err)
		}
	}
	run.arg.Q.Shutdown()
	wedged := run.join(ctx)
	counts, err := readLog(run.arg.Log, items)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	// A victim that had decoded its item either died before its Get
	// committed (the item stayed, and another consumer logged it) or
	// after (the item was in its hands, and went with it: a value lost
	// with the process that held it, not by the queue).
	lost, twice, heldLost := 0, 0, 0
	for id, n := range counts {
		if n == 0 && run.held[id] {
			heldLost++
		} else if n == 0 {
			lost++
		}
		if n > 1 {
			twice++
		}
	}
	r.count("items", items)
	r.count("killsInGet", run.inside)
	r.count("killsOutside", run.outside)
	r.count("killedHolding", len(run.held))
	r.count("goneWithHolder", heldLost)
	r.expect("lost", lost, 0)
	r.expect("twice", twice, 0)
	r.expect("wedged", wedged, 0)
	return r
}

func newQueueRun(log string, kills int) (*queueRun, error) {
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		return nil, err
	}
	q, err := mp.NewQueue[item](100)
	if err != nil {
		return nil, err
	}
	slots, err := shm.NewRawArray(make([]int64, 2*(4+kills)))
	if err != nil {
		q.Close()
		return nil, err
	}
	return &queueRun{arg: consumerArg{Q: q, Slots: slots, Log: log}, held: map[int]bool{}}, nil
}

func (q *queueRun) close() {
	for _, p := range q.consumers {
		p.Kill()
		p.Wait(context.Background())
		p.Close()
	}
	q.arg.Q.Close()
	q.arg.Slots.Close()
}

// startConsumer starts a consumer in position at (or a new position if
// at < 0) with a fresh slot.
func (q *queueRun) startConsumer(at int) error {
	a := q.arg
	a.Slot = q.next
	q.next++
	p := mp.Command(consumer, a)
	if err := p.Start(); err != nil {
		return err
	}
	if at < 0 {
		q.consumers = append(q.consumers, p)
		q.slots = append(q.slots, a.Slot)
	} else {
		q.consumers[at], q.slots[at] = p, a.Slot
	}
	return nil
}

// produce starts two producers putting items 0..items-1 between them; a
// tick goes out after each items/(kills+1) puts.
func (q *queueRun) produce(ctx context.Context, wg *sync.WaitGroup, items, kills int, tick chan<- struct{}) []error {
	errs := make([]error, 2)
	var puts atomic.Int64
	every := int64(max(1, items/(kills+1)))
	for p := range 2 {
		wg.Go(func() {
			for x := p; x < items; x += 2 {
				if err := q.arg.Q.Put(ctx, newItem(x)); err != nil {
					errs[p] = err
					return
				}
				if n := puts.Add(1); n%every == 0 && n/every <= int64(kills) {
					tick <- struct{}{}
				}
			}
		})
	}
	return errs
}

// kill SIGKILLs one consumer, found inside Get if inGet is set and
// outside it if not (after many tries, wherever it is but between Get and
// the log), and starts its replacement.
//
// A consumer stopped in the few instructions between Get's return and
// its store of slotLogging counts as inside Get, and the item it holds is
// lost through no fault of the queue. A stop lands there about once in
// tens of thousands of kills.
func (q *queueRun) kill(ctx context.Context, inGet bool) error {
	for try := 0; ; try++ {
		if try == 100000 {
			return errors.New("no consumer could be stopped at a point to kill")
		}
		i := rand.IntN(len(q.consumers))
		p := q.consumers[i]
		if unix.Kill(p.Pid(), unix.SIGSTOP) != nil {
			continue
		}
		stopped(p.Pid())
		state := atomic.LoadInt64(&q.arg.Slots.Slice()[2*q.slots[i]])
		held := atomic.LoadInt64(&q.arg.Slots.Slice()[2*q.slots[i]+1])
		if state == slotLogging || (try < 1000 && (state == slotInGet) != inGet) {
			unix.Kill(p.Pid(), unix.SIGCONT)
			continue
		}
		p.Kill()
		p.Wait(ctx)
		p.Close()
		if state == slotInGet {
			q.inside++
			if held != 0 {
				q.held[int(held-1)] = true
			}
		} else {
			q.outside++
		}
		return q.startConsumer(i)
	}
}

// stopped waits until a process sent SIGSTOP has stopped: the signal is
// delivered asynchronously.
func stopped(pid int) {
	deadline := time.Now().Add(time.Second)
	for !isStopped(pid) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
}

// join waits for the consumers to finish after the shutdown, and returns
// how many did not within a minute (they are killed).
func (q *queueRun) join(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	wedged := 0
	for _, p := range q.consumers {
		if err := p.Wait(ctx); err != nil && ctx.Err() != nil {
			wedged++
		}
	}
	return wedged
}
