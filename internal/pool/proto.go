package pool

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// The task socket between a pool and one of its workers carries datagrams
// of these kinds. Tasks and results travel in batches: one datagram holds as
// many records as fit, so that a burst of small tasks costs a few system
// calls rather than one or two per task.
const (
	poolTasks      byte = 1 // pool → worker: task records
	poolResults    byte = 2 // worker → pool: result records
	poolInit       byte = 3 // pool → worker: progress memfd and initializer
	poolCancel     byte = 4 // pool → worker: ids of tasks to cancel
	poolStop       byte = 5 // pool → worker: finish and exit
	poolReady      byte = 6 // worker → pool: initialized, tasks may run
	poolInitFailed byte = 7 // worker → pool: the initializer failed (a RemoteError)
	poolTaskApart  byte = 8 // pool → worker: one task record, its argument in the next datagram
	poolArg        byte = 9 // pool → worker: that argument, as it was encoded
)

// apartArg is the size from which a task's argument travels in a datagram
// of its own, straight from its encoding, rather than copied into its
// batch (a task that large is alone in its batch anyway). With 1 MiB
// items, the copy took a quarter to nearly half of the processor time of
// the pool's process; without it, that process used 10–25% less for the
// same items. Two workers on two cores received no faster: there they,
// not the pool's process, are the bound.
const apartArg = 64 << 10

// Status of a result record.
const (
	resultOK        byte = 0 // the encoded value
	resultErr       byte = 1 // an encoded RemoteError
	resultTimeout   byte = 2 // the task's deadline or the pool's task timeout passed
	resultCancelled byte = 3 // the pool cancelled the task
)

// Bounds on what a peer may claim in a record.
const (
	maxFuncName   = 1 << 10
	batchBytes    = 56 << 10 // keep a batch below the inline datagram limit
	maxBatchFDs   = 200      // below the transport's per-message cap
	maxBatchTasks = 256
)

// taskRec is one task as it travels to a worker. The task's descriptors
// travel in the datagram's descriptors, in record order.
type taskRec struct {
	ID       uint64
	Func     string
	Items    int   // >0: Arg is a CBOR array of that many items (a chunk)
	Deadline int64 // Unix nanoseconds, 0 for none
	NFDs     int
	Arg      []byte
}

// resultRec is one task's outcome as it travels back.
type resultRec struct {
	ID     uint64
	Status byte
	Nanos  uint64 // how long the task ran
	NFDs   int
	Data   []byte
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// appendTask appends the record of t to a tasks datagram.
func appendTask(b []byte, t *taskRec) []byte {
	b = binary.AppendUvarint(b, t.ID)
	b = appendString(b, t.Func)
	b = binary.AppendUvarint(b, uint64(t.Items))
	b = binary.AppendVarint(b, t.Deadline)
	b = binary.AppendUvarint(b, uint64(t.NFDs))
	return appendBytes(b, t.Arg)
}

// appendApart appends the record of a poolTaskApart datagram: t's record
// without its argument, then the argument's length, so that the worker
// can receive the argument straight into memory of its size.
func appendApart(b []byte, t *Task) []byte {
	rec := recordOf(t)
	rec.Arg = nil
	b = appendTask(b, &rec)
	return binary.AppendUvarint(b, uint64(len(t.Arg)))
}

// decodeApart parses a poolTaskApart datagram that came with nfds
// descriptors: one task record and the length of its argument, at most
// limit.
func decodeApart(data []byte, nfds, limit int) (taskRec, int, error) {
	r := protoReader{b: data}
	t := r.task(nfds)
	if arg := r.bytes("argument", 0); len(arg) > 0 {
		r.fail("argument inside its announcement")
	}
	n := r.small("argument length", limit)
	switch {
	case r.err != nil:
	case len(r.b) > 0:
		r.fail("trailing bytes")
	case t.NFDs != nfds:
		r.fail("descriptors without a task")
	}
	return t, n, r.err
}

// appendResult appends the record of r to a results datagram.
func appendResult(b []byte, r *resultRec) []byte {
	b = binary.AppendUvarint(b, r.ID)
	b = append(b, r.Status)
	b = binary.AppendUvarint(b, r.Nanos)
	b = binary.AppendUvarint(b, uint64(r.NFDs))
	return appendBytes(b, r.Data)
}

// protoReader reads the fields of records from a datagram; the first
// malformed field sets err and makes every later read return zero.
type protoReader struct {
	b   []byte
	err error
}

func (r *protoReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: pool message: %s", errs.ErrProtocol, what)
	}
	r.b = nil
}

func (r *protoReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad " + what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *protoReader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad " + what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// small reads a count that must not exceed limit.
func (r *protoReader) small(what string, limit int) int {
	v := r.uvarint(what)
	if v > uint64(limit) {
		r.fail(what + " out of range")
		return 0
	}
	return int(v)
}

func (r *protoReader) bytes(what string, limit int) []byte {
	n := r.small(what+" length", limit)
	if n > len(r.b) {
		r.fail(what + " truncated")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *protoReader) byte1(what string) byte {
	if len(r.b) == 0 {
		r.fail(what + " missing")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// task reads the fields of a task record up to its argument, which may
// claim at most nfds descriptors.
func (r *protoReader) task(nfds int) taskRec {
	t := taskRec{ID: r.uvarint("task id")}
	t.Func = string(r.bytes("function name", maxFuncName))
	t.Items = r.small("item count", maxItems)
	t.Deadline = r.varint("deadline")
	t.NFDs = r.small("descriptor count", nfds)
	return t
}

// decodeTasks parses a tasks datagram that came with nfds descriptors.
func decodeTasks(data []byte, nfds int) ([]taskRec, error) {
	r := protoReader{b: data}
	var out []taskRec
	used := 0
	for len(r.b) > 0 && r.err == nil {
		t := r.task(nfds - used)
		t.Arg = r.bytes("argument", len(data))
		used += t.NFDs
		out = append(out, t)
	}
	if r.err == nil && used != nfds {
		r.fail("descriptors without a task")
	}
	return out, r.err
}

// decodeResults parses a results datagram that came with nfds descriptors.
func decodeResults(data []byte, nfds int) ([]resultRec, error) {
	r := protoReader{b: data}
	var out []resultRec
	used := 0
	for len(r.b) > 0 && r.err == nil {
		res := resultRec{ID: r.uvarint("task id")}
		res.Status = r.byte1("status")
		if res.Status > resultCancelled {
			r.fail("unknown status")
		}
		res.Nanos = r.uvarint("duration")
		res.NFDs = r.small("descriptor count", nfds-used)
		res.Data = r.bytes("result", len(data))
		used += res.NFDs
		out = append(out, res)
	}
	if r.err == nil && used != nfds {
		r.fail("descriptors without a result")
	}
	return out, r.err
}

// maxItems bounds the items of one chunk.
const maxItems = 1 << 26

// maxApart bounds the argument a task may announce: a worker's socket
// accepts messages up to 1 GiB (the transport's cap).
const maxApart = 1 << 30

// decodeCancel parses a cancel datagram: a list of task ids.
func decodeCancel(data []byte) ([]uint64, error) {
	r := protoReader{b: data}
	var ids []uint64
	for len(r.b) > 0 && r.err == nil {
		ids = append(ids, r.uvarint("task id"))
	}
	return ids, r.err
}

// initRec is the worker's first message: the initializer to run, if any.
// Its first descriptor is the progress memfd, the others the argument's.
type initRec struct {
	Func        string
	Arg         []byte
	TaskTimeout time.Duration
}

func appendInit(b []byte, in *initRec) []byte {
	b = appendString(b, in.Func)
	b = appendBytes(b, in.Arg)
	return binary.AppendVarint(b, int64(in.TaskTimeout))
}

func decodeInit(data []byte) (initRec, error) {
	r := protoReader{b: data}
	in := initRec{Func: string(r.bytes("function name", maxFuncName))}
	in.Arg = r.bytes("argument", len(data))
	in.TaskTimeout = time.Duration(r.varint("task timeout"))
	if r.err == nil && len(r.b) > 0 {
		r.fail("trailing bytes")
	}
	return in, r.err
}
