// Command mpclusterbench measures a cluster Pool the way
// bench/cpython/bench_remote_tasks.py measures CPython's remote task
// master, and prints the same figures, one `name value unit` line each:
//
//	remote_task_roundtrip_p50 / _p90   one task at a time, 1 worker process
//	remote_tasks_w1 / _w4              tasks/s end to end, 64-byte payloads
//	remote_map_w4                      the same through Map's chunks (mp only)
//
// An engine runs in this process, listening on loopback; the submitter
// and the worker connect to it over TCP. The worker is a child process
// that runs Work with a local pool of 1 or 4 processes; every task is its
// own message (Submit, no chunks), as every CPython task is its own put.
//
// -only runs one of the figures (rtt, w1, w4 or map); -scale multiplies
// the number of tasks, for profiles long enough to read; -count prints,
// after each figure, how many messages of each kind crossed the engine per
// task (an extra subscription to every subject, which costs some speed).
//
//	mpclusterbench [-quick] [-only figure] [-scale n] [-count] [-cpuprofile file] [-workerprofile file]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
)

// The flags that run uses.
var (
	workerProfile string
	only          string
	scale         int
	count         bool
)

var echo = mp.Register("mpclusterbench.echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil })

// workerArg is what a worker process is started with.
type workerArg struct {
	URL       string
	Processes int
	// Profile, if set, is where the worker writes its CPU profile.
	Profile string
}

var worker = mp.Register("mpclusterbench.worker", func(ctx context.Context, a workerArg) (struct{}, error) {
	if a.Profile != "" {
		f, err := os.Create(a.Profile)
		if err != nil {
			return struct{}{}, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return struct{}{}, err
		}
		// Stopped with SIGTERM, which the profile must survive.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		go func() {
			<-sigs
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	c, err := cluster.Connect(ctx, a.URL, &cluster.ConnectOptions{Worker: true})
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	return struct{}{}, cluster.Work(ctx, c, &cluster.WorkerOptions{Pool: "bench", Local: mp.PoolOptions{Processes: a.Processes}})
})

func main() {
	cluster.Main()
	quick := flag.Bool("quick", false, "a tenth of the tasks")
	profile := flag.String("cpuprofile", "", "write a CPU profile of this process (submitter and engine) to `file`")
	flag.StringVar(&workerProfile, "workerprofile", "", "write CPU profiles of the worker processes to `file`.w1 and file.w4")
	flag.StringVar(&only, "only", "", "run only `figure`: rtt, w1, w4 or map")
	flag.IntVar(&scale, "scale", 1, "multiply the number of tasks by `n`")
	flag.BoolVar(&count, "count", false, "count the messages per task, by kind of subject")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mpclusterbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "mpclusterbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), *quick); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "mpclusterbench:", err)
		os.Exit(1)
	}
}

func emit(name string, value float64, unit string) {
	fmt.Printf("%s %.6g %s\n", name, value, unit)
}

func run(ctx context.Context, quick bool) error {
	fmt.Printf("# mp %s cpus %d\n", runtime.Version(), runtime.NumCPU())
	n, trips := 5000*scale, 1000*scale
	if quick {
		n, trips = n/10, trips/10
	}
	dir, err := os.MkdirTemp("", "mpclusterbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	engine, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer engine.Close()
	c, err := cluster.Connect(ctx, engine.URL(), nil) // over TCP, as the workers
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := cluster.NewPool(ctx, c, &cluster.PoolOptions{Name: "bench"})
	if err != nil {
		return err
	}
	defer func() {
		_ = p.Terminate()
		_ = p.Wait(ctx)
	}()
	var m *meter
	if count {
		if m, err = newMeter(ctx, engine.URL()); err != nil {
			return err
		}
		defer m.close()
	}
	payload := make([]byte, 64)
	want := func(figure string) bool { return only == "" || only == figure }

	procs := 1
	stop, err := startWorker(engine.URL(), procs)
	if err != nil {
		return err
	}
	defer func() { stop() }()
	if want("rtt") {
		rtts := make([]time.Duration, 0, trips)
		for i := range trips + trips/10 {
			if i == trips/10 {
				m.reset() // the first ones warm up
			}
			t := time.Now()
			if _, err := mp.Apply(ctx, p, echo, payload); err != nil {
				return err
			}
			if i >= trips/10 {
				rtts = append(rtts, time.Since(t))
			}
		}
		slices.Sort(rtts)
		emit("remote_task_roundtrip_p50", float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "us")
		emit("remote_task_roundtrip_p90", float64(rtts[len(rtts)*9/10].Nanoseconds())/1e3, "us")
		m.report(trips)
	}
	for _, k := range []int{1, 4} {
		if !want(fmt.Sprintf("w%d", k)) && (k != 4 || !want("map")) {
			continue
		}
		if k != procs {
			stop()
			stop = func() {} // stopped: the deferred stop must not stop it again
			procs = k
			s, err := startWorker(engine.URL(), procs)
			if err != nil {
				return err
			}
			stop = s
		}
		// Warm the worker's processes up.
		if err := throughput(ctx, p, payload, 4*procs); err != nil {
			return err
		}
		if !want(fmt.Sprintf("w%d", k)) {
			continue
		}
		m.reset()
		t := time.Now()
		if err := throughput(ctx, p, payload, n); err != nil {
			return err
		}
		emit(fmt.Sprintf("remote_tasks_w%d", procs), float64(n)/time.Since(t).Seconds(), "task/s")
		m.report(n)
	}
	if want("map") {
		// Beyond CPython's figures: the same items through Map, whose
		// chunks travel as one message each.
		items := make([][]byte, 10*n)
		for i := range items {
			items[i] = payload
		}
		t := time.Now()
		if _, err := mp.Map(ctx, p, echo, items, 0); err != nil {
			return err
		}
		emit("remote_map_w4", float64(len(items))/time.Since(t).Seconds(), "task/s")
	}
	return nil
}

// meter counts the messages that cross the engine, by kind of subject,
// through a connection of its own subscribed to every subject. A nil
// meter counts nothing.
type meter struct {
	c      *cluster.Cluster
	sub    *nats.Subscription
	mu     sync.Mutex
	counts map[string]int
}

func newMeter(ctx context.Context, url string) (*meter, error) {
	c, err := cluster.Connect(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	m := &meter{c: c, counts: map[string]int{}}
	m.sub, err = c.NATS().Subscribe(">", func(msg *nats.Msg) {
		k := kindOf(msg.Subject)
		m.mu.Lock()
		m.counts[k]++
		m.mu.Unlock()
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return m, c.NATS().Flush()
}

// kindOf groups subjects: the JetStream API by operation, inboxes as one,
// a pool's subjects by their first four tokens.
func kindOf(subject string) string {
	tok := strings.Split(subject, ".")
	switch {
	case tok[0] == "_INBOX":
		return "_INBOX (deliveries, replies, publish acks)"
	case strings.HasPrefix(subject, "$JS.API.CONSUMER.MSG.NEXT."):
		return "$JS.API.CONSUMER.MSG.NEXT (pull requests)"
	case tok[0] == "$JS" && len(tok) > 2:
		return strings.Join(tok[:3], ".")
	case len(tok) > 4:
		return strings.Join(tok[:4], ".")
	}
	return subject
}

func (m *meter) reset() {
	if m == nil {
		return
	}
	_ = m.c.NATS().Flush()
	m.mu.Lock()
	clear(m.counts)
	m.mu.Unlock()
}

// report prints the messages per task since the last reset.
func (m *meter) report(tasks int) {
	if m == nil {
		return
	}
	_ = m.c.NATS().Flush()
	m.mu.Lock()
	defer m.mu.Unlock()
	kinds := make([]string, 0, len(m.counts))
	total := 0
	for k, n := range m.counts {
		kinds = append(kinds, k)
		total += n
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Printf("#   %-45s %6.2f per task\n", k, float64(m.counts[k])/float64(tasks))
	}
	fmt.Printf("#   %-45s %6.2f per task\n", "all", float64(total)/float64(tasks))
}

func (m *meter) close() {
	_ = m.sub.Unsubscribe()
	m.c.Close()
}

// throughput gives n tasks at once and waits for them all.
func throughput(ctx context.Context, p *cluster.Pool, payload []byte, n int) error {
	fs := make([]*mp.Future[[]byte], n)
	for i := range fs {
		fs[i] = mp.Submit(ctx, p, echo, payload)
	}
	for _, f := range fs {
		if _, err := f.Get(ctx); err != nil {
			return err
		}
	}
	return nil
}

// startWorker starts a worker process with procs local processes, and
// returns what stops it.
func startWorker(url string, procs int) (stop func(), err error) {
	a := workerArg{URL: url, Processes: procs}
	if workerProfile != "" {
		a.Profile = fmt.Sprintf("%s.w%d", workerProfile, procs)
	}
	w := mp.Command(worker, a)
	if err := w.Start(); err != nil {
		return nil, err
	}
	return func() {
		_ = w.Terminate() // SIGTERM: the worker's context ends, its profile is written
		_ = w.Wait(context.Background())
	}, nil
}
