// Package mp brings Python's multiprocessing model to Go: functions run in
// real child processes, with queues, pipes, locks and shared memory between
// them, process pools that survive dying workers, and deadlines that really
// kill.
//
// A program that uses mp calls mp.Main first thing in main (and in TestMain):
//
//	var square = mp.Register("square", func(ctx context.Context, x int) (int, error) {
//		return x * x, nil
//	})
//
//	func main() {
//		mp.Main()
//		y, err := mp.Call(context.Background(), square, 7) // runs in a child process
//		...
//	}
//
// # How it differs from Python
//
// Go cannot fork: a Go program is multi-threaded, and a child forked without
// exec hangs. A child is a new run of the program's own binary (Spawn), or a
// warm spare started that way (Forkserver); it does not inherit the parent's
// variables, and mp.Main is where it picks up the function it was sent.
//
// Functions are registered by name at package level instead of pickled;
// their argument and result are encoded (CBOR), and handles — Conns, queues,
// locks, shared arrays — travel inside them as working objects.
//
// Everything that waits for another process takes a context.Context first:
// a deadline plays Python's timeout=, and the error then matches both mp's
// sentinel and context.DeadlineExceeded. Try… methods play block=False.
// Errors are values tested with errors.Is (ErrEmpty, ErrTimeout, …) or taken
// apart with errors.As (*ExitError, *RemoteError, *WorkerDiedError), where
// Python raises exception classes.
//
// Beyond Python: a pool worker that dies fails only its own task; a task past
// its deadline is killed; a lock whose holder died is taken over with
// ErrOwnerDead; handles can be sent to processes that are already running;
// children are always reaped and die with their parent.
//
// # What crosses processes
//
// Arguments, results, queue items and messages on a Conn are encoded with
// CBOR. Like encoding/json, the codec sees the exported fields of structs
// (and those of embedded structs), slices, arrays, maps, strings, numbers,
// times, and types that encode themselves with MarshalCBOR and
// UnmarshalCBOR, or MarshalBinary and UnmarshalBinary (not MarshalText or
// MarshalJSON). An unexported field would arrive empty, so mp refuses it
// and names the type and the field: Register panics for such an argument
// or result type, the queue constructors for such an item type, and a
// value whose type is only known inside an interface fails to send with
// an error matching ErrUnencodable. Tag a field `cbor:"-"` to leave it out
// on purpose. This refuses, among others, a struct holding a sync.Mutex
// and code-generated types with private state (protocol buffers' messages):
// send their exported data in a struct of its own, or give the type
// MarshalBinary and UnmarshalBinary (for a protocol buffer, proto.Marshal
// and proto.Unmarshal).
//
// # Handles
//
// Conn, File, the queues, the locks (Mutex, ReentrantLock, Semaphore,
// BoundedSemaphore, Event, Cond, Barrier) and package shm's Value and Array
// are handles: they stand for open descriptors, and travel to other
// processes as working objects, anywhere inside an argument, a result, a
// queue item or a message. Their MarshalCBOR and UnmarshalCBOR methods are
// plumbing: the codec finds them only if they are exported, and they work
// only inside mp's own encoding of a message (where the descriptors travel
// beside the bytes). They are not for direct use.
//
// # Python to Go
//
// The whole table, with a runnable example or test for every row, is in
// docs/python-to-go.md. In short:
//
//	Python                                     mp or Go
//	Process(target, args), start, join         Command(f, arg), Start, Wait(ctx), Run(ctx)
//	is_alive, exitcode, terminate, kill        Alive, ExitCode, Terminate, Kill
//	pid, sentinel, name, daemon                Pid, Done, Name, Daemon
//	setproctitle (a package)                   nothing: ps and top show a child's Name
//	current_process, parent_process            Current, ParentPID
//	active_children, cpu_count                 ActiveChildren, CPUCount
//	set_start_method, get_context              SetStartMethod, Process.StartMethod
//	fork start method                          impossible in Go: ErrForkUnsupported
//	multiprocessing.dummy                      the Goroutine start method
//	Pipe, send, recv, poll, EOFError           Pipe, Conn.Send, Recv, Poll, io.EOF
//	send_bytes, recv_bytes(_into)              Conn.SendBytes, RecvBytes, RecvBytesInto
//	connection.wait                            Wait(ctx, objects...)
//	connection.Listener, Client                Listen, Listener.Accept, Dial
//	Queue, SimpleQueue, JoinableQueue          Queue[T], SimpleQueue[T], JoinableQueue[T]
//	queue.LifoQueue, queue.PriorityQueue       LifoQueue[T], PriorityQueue[T] (between processes)
//	put/get(timeout), *_nowait                 Put/Get(ctx), TryPut/TryGet
//	queue.Empty, queue.Full                    ErrEmpty, ErrFull
//	shutdown (3.13), queue.ShutDown            Queue.Shutdown, ShutdownNow, All; ErrShutDown
//	Lock, RLock                                Mutex, ReentrantLock
//	Semaphore, BoundedSemaphore                Semaphore, BoundedSemaphore
//	Event, Condition, Barrier                  Event, Cond, Barrier
//	Value, Array, shared_memory                package shm: Value[T], Array[T], Segment
//	Pool, apply, apply_async                   NewPool, Apply, Submit
//	map, imap, imap_unordered, starmap         Map, Imap, ImapUnordered, Map over structs
//	(each item's result or error)              MapEach, Outcome[T]; Imap yields (index, Outcome)
//	a Pool's internals (_pool, _taskqueue)     Pool.Stats
//	AsyncResult, TimeoutError                  Future[T], ErrTimeout
//	Manager, BaseManager                       package manager
//	log_to_stderr, get_logger                  SetLogger; children log with slog.Default()
//	subprocess.run, Popen, communicate         package subprocess
//	threading.Thread, join                     go statement, sync.WaitGroup, errgroup
//	threading.Timer                            time.AfterFunc
//	threading.local                            parameters or context values
//
// # Systems
//
// mp runs on Linux, macOS and FreeBSD. On Linux it uses the kernel's own
// mechanisms (futexes, sealed memfds, SOCK_SEQPACKET sockets, eventfds,
// pidfds); macOS and FreeBSD use portable ones built on POSIX (shared words
// polled, unlinked files, framed stream sockets, FIFOs, start-time checked
// pids), which the build tag mpportable selects on Linux too, so that they
// are tested there. The README's support table says what differs.
//
// Windows is out of scope: it has no fork or exec of the running binary
// with inherited descriptors, no Unix descriptor passing, no signals to
// end a process tree, and no shared-memory wait; Python's multiprocessing
// there is a different design (spawn through pickled handles and named
// pipes), and a port would be a second library, not a build of this one.
//
// # Testing
//
// Package mptest holds the TestMain (mptest.Main) that makes a test binary
// work as its own child, and CheckLeaks, which fails a test that leaves
// children, file descriptors, shared memory or goroutines behind.
package mp
