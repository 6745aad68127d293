package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
)

// The envelopes of a Pool's messages. A task and its result travel as the
// body of one JetStream message each, in a small binary form of their own
// (a version byte, then varints and length-prefixed strings), so that
// reading one costs no codec and no header parsing. The argument and the
// result are the core's bytes, carried as they are.
const envelopeVersion byte = 1

// Bounds on what a peer may claim in an envelope.
const (
	maxEnvelopeName = 1 << 10
	maxErrorText    = 1 << 20
	maxSentinels    = 256
)

// errEnvelope is the error of an envelope that cannot be read.
var errEnvelope = fmt.Errorf("%w: malformed pool message", mp.ErrProtocol)

// taskMsg is a task as it travels to a worker machine.
type taskMsg struct {
	// ID is the task's id in its submitter's process.
	ID uint64
	// Submitter identifies the submitting Pool: results go to its subject.
	Submitter string
	Func      string
	Items     int
	// Deadline is Unix nanoseconds, 0 for none.
	Deadline int64
	// Attempt counts the earlier attempts: the core's count, plus one per
	// Retries of a task whose process crashed.
	Attempt int
	Arg     []byte
}

func (t *taskMsg) append(b []byte) []byte {
	b = append(b, envelopeVersion)
	b = binary.AppendUvarint(b, t.ID)
	b = appendString(b, t.Submitter)
	b = appendString(b, t.Func)
	b = binary.AppendUvarint(b, uint64(t.Items))
	b = binary.AppendVarint(b, t.Deadline)
	b = binary.AppendUvarint(b, uint64(t.Attempt))
	return append(b, t.Arg...)
}

// decodeTask reads a task envelope; Arg aliases data.
func decodeTask(data []byte) (taskMsg, error) {
	r := reader{b: data}
	var t taskMsg
	if r.byte() != envelopeVersion {
		return t, fmt.Errorf("%w: unknown version", errEnvelope)
	}
	t.ID = r.uvarint()
	t.Submitter = r.string()
	t.Func = r.string()
	t.Items = r.count(1 << 30)
	t.Deadline = r.varint()
	t.Attempt = r.count(1 << 20)
	t.Arg = r.rest()
	if r.err != nil {
		return taskMsg{}, r.err
	}
	if t.Func == "" || t.Submitter == "" {
		return taskMsg{}, fmt.Errorf("%w: no function or submitter", errEnvelope)
	}
	return t, nil
}

// What a result envelope holds after its header.
const (
	resultValue byte = 0 // the encoded result
	resultError byte = 1 // a function's error, or the local pool's
	resultDied  byte = 2 // the task's process died running it
)

// resultMsg is a task's outcome as it travels back to its submitter.
type resultMsg struct {
	ID uint64
	// Attempt is the Attempt of the task's message.
	Attempt int
	Worker  string // the worker machine's name
	Kind    byte
	Value   []byte // resultValue
	// Err describes the error (resultError): a *mp.RemoteError's fields.
	Err *mp.RemoteError
	// Died describes the death (resultDied).
	Died *mp.WorkerDiedError
}

func (r *resultMsg) append(b []byte) []byte {
	b = append(b, envelopeVersion)
	b = binary.AppendUvarint(b, r.ID)
	b = binary.AppendUvarint(b, uint64(r.Attempt))
	b = appendString(b, r.Worker)
	b = append(b, r.Kind)
	switch r.Kind {
	case resultError:
		e := r.Err
		b = appendString(b, e.Func)
		b = binary.AppendUvarint(b, uint64(e.Pid))
		b = appendString(b, e.Message)
		b = appendString(b, e.Type)
		b = appendBool(b, e.Panic)
		b = appendString(b, e.Stack)
		b = binary.AppendUvarint(b, uint64(len(e.Sentinels)))
		for _, s := range e.Sentinels {
			b = appendString(b, s)
		}
	case resultDied:
		d := r.Died
		b = binary.AppendUvarint(b, uint64(d.Pid))
		var ex mp.ExitError
		if d.Exit != nil {
			ex = *d.Exit
		}
		b = binary.AppendVarint(b, int64(ex.Code))
		b = binary.AppendUvarint(b, uint64(ex.Signal))
		b = appendString(b, string(ex.Stderr))
		b = appendBool(b, d.ResultLost)
	default:
		b = append(b, r.Value...)
	}
	return b
}

// decodeResult reads a result envelope; Value aliases data.
func decodeResult(data []byte) (resultMsg, error) {
	rd := reader{b: data}
	var r resultMsg
	if rd.byte() != envelopeVersion {
		return r, fmt.Errorf("%w: unknown version", errEnvelope)
	}
	r.ID = rd.uvarint()
	r.Attempt = rd.count(1 << 20)
	r.Worker = rd.string()
	r.Kind = rd.byte()
	switch r.Kind {
	case resultValue:
		r.Value = rd.rest()
	case resultError:
		e := &mp.RemoteError{Func: rd.string(), Pid: rd.count(1 << 31), Message: rd.text(), Type: rd.string(), Panic: rd.bool(), Stack: rd.text()}
		n := rd.count(maxSentinels)
		for range n {
			e.Sentinels = append(e.Sentinels, rd.string())
		}
		r.Err = e
	case resultDied:
		d := &mp.WorkerDiedError{Pid: rd.count(1 << 31)}
		d.Exit = &mp.ExitError{Code: int(rd.varint()), Signal: syscall.Signal(rd.count(1 << 10)), Stderr: []byte(rd.text())}
		d.ResultLost = rd.bool()
		r.Died = d
	default:
		return resultMsg{}, fmt.Errorf("%w: unknown result kind %d", errEnvelope, r.Kind)
	}
	if rd.err == nil && r.Kind != resultValue && len(rd.b) != 0 {
		rd.err = fmt.Errorf("%w: %d bytes after the result", errEnvelope, len(rd.b))
	}
	if rd.err != nil {
		return resultMsg{}, rd.err
	}
	return r, nil
}

// resultsVersion opens a message that carries several results: a count,
// then each result's envelope with its length before it. A worker sends
// the results that finish while its previous message waits to be stored
// as one message, so that under load a result costs the engine a fraction
// of a store, a delivery and an acknowledgement.
const resultsVersion byte = 2

// Bounds on a message of several results: a worker starts another one
// past them.
const (
	maxBatchResults = 256
	maxBatchBytes   = 256 << 10
)

// appendResults appends a message of the results encs (each an envelope
// made by resultMsg.append); one result is sent as its envelope alone.
func appendResults(b []byte, encs [][]byte) []byte {
	if len(encs) == 1 {
		return append(b, encs[0]...)
	}
	b = append(b, resultsVersion)
	b = binary.AppendUvarint(b, uint64(len(encs)))
	for _, e := range encs {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

// decodeResults reads a message of one result or several; the results'
// Values alias data.
func decodeResults(data []byte) ([]resultMsg, error) {
	if len(data) == 0 || data[0] != resultsVersion {
		r, err := decodeResult(data)
		if err != nil {
			return nil, err
		}
		return []resultMsg{r}, nil
	}
	rd := reader{b: data[1:]}
	n := rd.count(maxBatchResults + 1)
	if rd.err == nil && n < 2 {
		rd.fail("count")
	}
	rs := make([]resultMsg, 0, n)
	for range n {
		b := rd.bytes(maxBatchBytes)
		if rd.err != nil {
			return nil, rd.err
		}
		r, err := decodeResult(b)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.err = fmt.Errorf("%w: %d bytes after the results", errEnvelope, len(rd.b))
	}
	if rd.err != nil {
		return nil, rd.err
	}
	return rs, nil
}

// controlMsg is a message to the workers of a pool: stop one task of a
// submitter, or all of them.
type controlMsg struct {
	Kind      byte
	Submitter string
	ID        uint64 // controlCancel
}

const (
	controlCancel    byte = 1
	controlTerminate byte = 2
)

func (c *controlMsg) append(b []byte) []byte {
	b = append(b, envelopeVersion, c.Kind)
	b = appendString(b, c.Submitter)
	return binary.AppendUvarint(b, c.ID)
}

func decodeControl(data []byte) (controlMsg, error) {
	r := reader{b: data}
	var c controlMsg
	if r.byte() != envelopeVersion {
		return c, fmt.Errorf("%w: unknown version", errEnvelope)
	}
	c.Kind = r.byte()
	c.Submitter = r.string()
	c.ID = r.uvarint()
	if r.err == nil && (c.Kind != controlCancel && c.Kind != controlTerminate || len(r.b) != 0) {
		r.err = fmt.Errorf("%w: bad control message", errEnvelope)
	}
	return c, r.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// reader reads an envelope; the first error sticks, and later reads
// return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", errEnvelope, what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("byte")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a number below limit.
func (r *reader) count(limit uint64) int {
	v := r.uvarint()
	if v >= limit {
		r.fail("count")
		return 0
	}
	return int(v)
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bool")
	return false
}

func (r *reader) bytes(limit uint64) []byte {
	n := r.count(limit + 1)
	if r.err != nil || n > len(r.b) {
		r.fail("length")
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) string() string { return string(r.bytes(maxEnvelopeName)) }
func (r *reader) text() string   { return string(r.bytes(maxErrorText)) }

func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	b := r.b
	r.b = nil
	return b
}

// deadlineOf is the task deadline in an envelope's form.
func deadlineOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeOf is the reverse of deadlineOf.
func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// describe turns the error of a task run by a worker's local pool into the
// result that carries it home: a death as a death, anything else with its
// text, type and the registered sentinels it matches (mp.ErrTimeout and
// context.DeadlineExceeded for a deadline, for instance), as a function's
// own error already comes.
func describe(fn string, err error) resultMsg {
	var died *mp.WorkerDiedError
	if errors.As(err, &died) {
		return resultMsg{Kind: resultDied, Died: died}
	}
	if re, ok := err.(*mp.RemoteError); ok {
		return resultMsg{Kind: resultError, Err: re}
	}
	d := errs.Describe(fn, err)
	return resultMsg{Kind: resultError, Err: &mp.RemoteError{Func: fn, Pid: d.Pid, Message: d.Message, Type: d.Type, Sentinels: d.Sentinels}}
}
