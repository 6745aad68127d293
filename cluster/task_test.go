package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"syscall"
	"testing"

	"github.com/mpgo/mp"
)

func TestEnvelopesRoundTrip(t *testing.T) {
	task := taskMsg{ID: 7, Submitter: "s", Func: "f", Items: 3, Deadline: -5, Attempt: 2, Arg: []byte("arg")}
	if got, err := decodeTask(task.append(nil)); err != nil || !reflect.DeepEqual(got, task) {
		t.Errorf("task: got %+v, %v; want %+v", got, err, task)
	}
	for _, r := range []resultMsg{
		{ID: 1, Attempt: 1, Worker: "w", Kind: resultValue, Value: []byte("v")},
		{ID: 2, Worker: "w", Kind: resultError, Err: &mp.RemoteError{Func: "f", Pid: 9, Message: "m", Type: "T", Panic: true, Stack: "s", Sentinels: []string{"a", "b"}}},
		{ID: 3, Worker: "w", Kind: resultDied, Died: &mp.WorkerDiedError{Pid: 4, Exit: &mp.ExitError{Code: -9, Signal: syscall.SIGKILL, Stderr: []byte("e")}, ResultLost: true}},
	} {
		if got, err := decodeResult(r.append(nil)); err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("result: got %+v, %v; want %+v", got, err, r)
		}
	}
	ctl := controlMsg{Kind: controlCancel, Submitter: "s", ID: 5}
	if got, err := decodeControl(ctl.append(nil)); err != nil || got != ctl {
		t.Errorf("control: got %+v, %v; want %+v", got, err, ctl)
	}
}

func TestResultsMessage(t *testing.T) {
	rs := []resultMsg{
		{ID: 1, Attempt: 1, Worker: "w", Kind: resultValue, Value: []byte("v")},
		{ID: 2, Worker: "w", Kind: resultError, Err: &mp.RemoteError{Func: "f", Message: "m", Sentinels: []string{"a"}}},
		{ID: 3, Worker: "w", Kind: resultValue, Value: []byte{}},
	}
	for n := 1; n <= len(rs); n++ {
		encs := make([][]byte, n)
		for i := range encs {
			encs[i] = rs[i].append(nil)
		}
		data := appendResults(nil, encs)
		if n == 1 && !bytes.Equal(data, encs[0]) {
			t.Errorf("one result: %x, want its envelope %x", data, encs[0])
		}
		got, err := decodeResults(data)
		if err != nil || !reflect.DeepEqual(got, rs[:n]) {
			t.Errorf("%d results: got %+v, %v; want %+v", n, got, err, rs[:n])
		}
		if n > 1 {
			if _, err := decodeResults(data[:len(data)-1]); !errors.Is(err, mp.ErrProtocol) {
				t.Errorf("%d results cut short: %v, want an error matching mp.ErrProtocol", n, err)
			}
			if _, err := decodeResults(append(data, 0)); !errors.Is(err, mp.ErrProtocol) {
				t.Errorf("%d results and a byte: %v, want an error matching mp.ErrProtocol", n, err)
			}
		}
	}
	for _, bad := range [][]byte{nil, {resultsVersion}, {resultsVersion, 1, 0}, {resultsVersion, 0}} {
		if _, err := decodeResults(bad); !errors.Is(err, mp.ErrProtocol) {
			t.Errorf("decodeResults(%x) = %v, want an error matching mp.ErrProtocol", bad, err)
		}
	}
}

// FuzzEnvelopes feeds the decoders what a peer may send: they return an
// error or a value that encodes back to the same bytes, never panic.
func FuzzEnvelopes(f *testing.F) {
	f.Add((&taskMsg{ID: 7, Submitter: "s", Func: "f", Items: 3, Deadline: 5, Arg: []byte("arg")}).append(nil))
	f.Add((&resultMsg{ID: 2, Worker: "w", Kind: resultError, Err: &mp.RemoteError{Message: "m", Sentinels: []string{"a"}}}).append(nil))
	f.Add((&resultMsg{ID: 3, Kind: resultDied, Died: &mp.WorkerDiedError{Exit: &mp.ExitError{Code: 3}}}).append(nil))
	f.Add((&controlMsg{Kind: controlTerminate, Submitter: "s"}).append(nil))
	f.Add(appendResults(nil, [][]byte{(&resultMsg{ID: 1, Kind: resultValue}).append(nil), (&resultMsg{ID: 2, Kind: resultValue, Value: []byte("v")}).append(nil)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tm, err := decodeTask(data); err == nil {
			if again := tm.append(nil); !bytes.Equal(again, data) && !sameTask(again, tm) {
				t.Errorf("task %+v encodes to %x, decoded from %x", tm, again, data)
			}
		}
		if r, err := decodeResult(data); err == nil {
			if _, err := decodeResult(r.append(nil)); err != nil {
				t.Errorf("result %+v does not decode again: %v", r, err)
			}
		}
		if rs, err := decodeResults(data); err == nil {
			encs := make([][]byte, len(rs))
			for i := range rs {
				encs[i] = rs[i].append(nil)
			}
			if again, err := decodeResults(appendResults(nil, encs)); err != nil || len(again) != len(rs) {
				t.Errorf("results %+v do not decode again: %d, %v", rs, len(again), err)
			}
		}
		if c, err := decodeControl(data); err == nil {
			if got, err := decodeControl(c.append(nil)); err != nil || got != c {
				t.Errorf("control %+v: %+v, %v", c, got, err)
			}
		}
	})
}

// sameTask reports whether data decodes to tm (varints may have had
// longer encodings in the fuzzer's input).
func sameTask(data []byte, tm taskMsg) bool {
	got, err := decodeTask(data)
	return err == nil && reflect.DeepEqual(got, tm)
}
