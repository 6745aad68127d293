package cluster

import (
	"fmt"
	"regexp"
	"time"
)

// PoolOptions configure NewPool. The zero value joins the pool "default"
// with the defaults given below.
type PoolOptions struct {
	// Name is the pool's name: pools and workers with the same name on the
	// same engine share one queue of tasks. Empty means "default". A name
	// is 1 to 64 letters, digits, '-' or '_'; NewPool panics on another.
	Name string
	// AckWait is how long a worker machine may stay silent before the
	// tasks it holds are delivered to other workers. Workers confirm the
	// tasks they hold every quarter of it, however long the tasks run, so
	// a short AckWait only shortens how long a dead machine's tasks wait.
	// It also bounds (with 5 seconds) how long results sent to this Pool
	// just as its connection broke wait, once it is back, to be sent
	// again. Zero means 30 seconds; a value below 100 ms panics. The
	// setting is the pool's, on the engine: the last NewPool to set it
	// wins.
	AckWait time.Duration
	// Deliveries bounds how many times a task is delivered to a worker
	// machine: a task whose machine died or was cut off that many times
	// fails with a *DeliveryError. Zero means 3; a negative number panics.
	// The setting is the pool's, as AckWait's is.
	Deliveries int
	// Retries is how many more times a task runs after its process
	// crashed (os.Exit, a signal, the OOM killer) while it ran, on any
	// worker machine; its future then fails only once the retries are
	// spent. Zero means no retry, as on one machine; a negative number
	// panics. A task whose process died after the function returned is
	// not run again (mp.WorkerDiedError.ResultLost), nor is one that ran
	// past its deadline.
	Retries int
	// ResultTTL is how long a result waits on the engine for a submitter
	// that is away (its connection broken) before it is dropped. Zero means 24 hours.
	ResultTTL time.Duration
}

// Defaults of PoolOptions.
const (
	defaultAckWait    = 30 * time.Second
	defaultDeliveries = 3
	defaultResultTTL  = 24 * time.Hour
	minAckWait        = 100 * time.Millisecond
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// resolved returns o with its defaults filled in, and panics on a value
// out of range: a mistake in the program, as an unregistered function is.
func (o PoolOptions) resolved() PoolOptions {
	if o.Name == "" {
		o.Name = "default"
	}
	checkName("NewPool", "Name", o.Name)
	switch {
	case o.AckWait != 0 && o.AckWait < minAckWait:
		panic(fmt.Sprintf("cluster: NewPool with AckWait %v: want 0 (the default) or at least %v", o.AckWait, minAckWait))
	case o.Deliveries < 0:
		panic(fmt.Sprintf("cluster: NewPool with Deliveries %d: want 0 (the default) or more", o.Deliveries))
	case o.Retries < 0:
		panic(fmt.Sprintf("cluster: NewPool with Retries %d: want 0 or more", o.Retries))
	case o.ResultTTL < 0:
		panic(fmt.Sprintf("cluster: NewPool with ResultTTL %v: want 0 (the default) or more", o.ResultTTL))
	}
	if o.AckWait == 0 {
		o.AckWait = defaultAckWait
	}
	if o.Deliveries == 0 {
		o.Deliveries = defaultDeliveries
	}
	if o.ResultTTL == 0 {
		o.ResultTTL = defaultResultTTL
	}
	return o
}

func checkName(fn, field, name string) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("cluster: %s with %s %q: want 1 to 64 letters, digits, '-' or '_'", fn, field, name))
	}
}

// The engine's names for a pool's parts. Tasks of every submitter of pool
// N go to one work-queue stream, one subject per submitter (so that
// Terminate purges only its own); the workers share one durable consumer
// of it. Results go to a second stream, one subject and one durable
// consumer per submitter.
type poolNames struct {
	pool           string
	tasks          string // the tasks' stream
	taskSubject    string // this submitter's tasks
	taskFilter     string // every submitter's tasks
	results        string // the results' stream
	resultSubject  string // this submitter's results
	resultFilter   string // every submitter's results
	resultConsumer string // this submitter's consumer of its results
	keepTasks      string // the keeper of the tasks' stream (see keep)
	keepResults    string // the keeper of the results' stream
	control        string // where workers hear cancellations
	presence       string // the workers' keys in the presence bucket
}

const (
	// workersConsumer is the name of the consumer every worker pulls from.
	workersConsumer = "mp-workers"
	// presenceBucket is the key-value bucket where workers announce
	// themselves, as "<pool>.<worker>" = processes.
	presenceBucket = "mp_workers"
	// presenceTTL is how long a worker's key outlives its last renewal;
	// workers renew it every third of it.
	presenceTTL = 6 * time.Second
)

func namesOf(pool, submitter string) poolNames {
	p := "mp.pool." + pool
	return poolNames{
		pool:           pool,
		tasks:          "MPPOOL_" + pool,
		taskSubject:    p + ".task." + submitter,
		taskFilter:     p + ".task.*",
		results:        "MPPOOLRES_" + pool,
		resultSubject:  p + ".result." + submitter,
		resultFilter:   p + ".result.*",
		resultConsumer: "mp-results-" + submitter,
		keepTasks:      p + ".keep.tasks",
		keepResults:    p + ".keep.results",
		control:        p + ".control",
		presence:       pool + ".*",
	}
}
