package pool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

func TestPoolProtoRoundTrip(t *testing.T) {
	tasks := []taskRec{
		{ID: 1, Func: "square", Arg: []byte{0x07}},
		{ID: 1 << 40, Func: "chunk", Items: 3, Deadline: time.Now().UnixNano(), NFDs: 2, Arg: []byte{0x83, 1, 2, 3}},
		{ID: 3, Func: "", Deadline: -5, Arg: nil},
	}
	var data []byte
	for i := range tasks {
		data = appendTask(data, &tasks[i])
	}
	got, err := decodeTasks(data, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tasks {
		if g, w := got[i], tasks[i]; g.ID != w.ID || g.Func != w.Func || g.Items != w.Items || g.Deadline != w.Deadline || g.NFDs != w.NFDs || !bytes.Equal(g.Arg, w.Arg) {
			t.Errorf("task %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := decodeTasks(data, 3); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("descriptors without a task: %v", err)
	}
	results := []resultRec{{ID: 9, Status: resultOK, Nanos: 1234, NFDs: 1, Data: []byte{1}}, {ID: 10, Status: resultErr, Data: []byte("x")}}
	data = nil
	for i := range results {
		data = appendResult(data, &results[i])
	}
	rs, err := decodeResults(data, 1)
	if err != nil || len(rs) != 2 || rs[0].Nanos != 1234 || rs[1].Status != resultErr || string(rs[1].Data) != "x" {
		t.Errorf("decodeResults = %+v, %v", rs, err)
	}
	in := initRec{Func: "init", Arg: []byte{1, 2}, TaskTimeout: time.Second}
	if got, err := decodeInit(appendInit(nil, &in)); err != nil || got.Func != in.Func || !bytes.Equal(got.Arg, in.Arg) || got.TaskTimeout != in.TaskTimeout {
		t.Errorf("decodeInit = %+v, %v", got, err)
	}
	if ids, err := decodeCancel([]byte{1, 0x80, 0x01}); err != nil || !slices.Equal(ids, []uint64{1, 128}) {
		t.Errorf("decodeCancel = %v, %v", ids, err)
	}
}

func TestPoolProtoRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"truncated name":   {1, 5, 'a'},
		"huge name":        {1, 0xff, 0xff, 0x7f},
		"truncated arg":    {1, 0, 0, 0, 0, 9, 1},
		"missing fields":   {1},
		"bad varint":       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"too many fds":     {1, 0, 0, 0, 3, 0},
		"too many items":   {1, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0},
		"trailing garbage": append(appendTask(nil, &taskRec{ID: 1}), 7),
	} {
		if _, err := decodeTasks(data, 0); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("%s: %v, want errs.ErrProtocol", name, err)
		}
	}
	if _, err := decodeResults([]byte{1, 9, 0, 0, 0}, 0); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("unknown status: %v", err)
	}
	if _, err := decodeInit(append(appendInit(nil, &initRec{}), 0)); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("init with trailing bytes: %v", err)
	}
}

func TestTaskQueue(t *testing.T) {
	var q taskQueue
	ts := make([]*Task, 3000)
	for i := range ts {
		ts[i] = &Task{ID: uint64(i)}
		q.push(ts[i])
	}
	for i := range 2000 {
		if got := q.pop(); got != ts[i] {
			t.Fatalf("pop %d = %v", i, got.ID)
		}
	}
	q.pushFront([]*Task{ts[1998], ts[1999]})
	for i := 1998; i < 3000; i++ {
		if got := q.pop(); got != ts[i] {
			t.Fatalf("pop after pushFront: %d, want %d", got.ID, i)
		}
	}
	if q.pop() != nil || q.len() != 0 {
		t.Error("queue not empty")
	}
	q.pushFront([]*Task{ts[0]})
	if q.pop() != ts[0] {
		t.Error("pushFront on an empty queue")
	}
}

func FuzzDecodeTasks(f *testing.F) {
	var seed []byte
	for _, t := range []taskRec{{ID: 1, Func: "f", Arg: []byte{7}}, {ID: 2, Items: 2, Deadline: 99, NFDs: 1, Arg: []byte{0x82, 1, 2}}} {
		seed = appendTask(seed, &t)
	}
	f.Add(seed, 1)
	f.Add([]byte{1, 5, 'a'}, 0)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, data []byte, nfds int) {
		nfds = max(0, min(nfds, 250))
		recs, err := decodeTasks(data, nfds)
		if err != nil {
			return
		}
		used := 0
		var again []byte
		for i := range recs {
			used += recs[i].NFDs
			again = appendTask(again, &recs[i])
		}
		if used != nfds {
			t.Fatalf("records claim %d descriptors of %d", used, nfds)
		}
		if _, err := decodeTasks(again, nfds); err != nil {
			t.Fatalf("re-encoded records do not decode: %v", err)
		}
	})
}

func FuzzDecodeResults(f *testing.F) {
	seed := appendResult(nil, &resultRec{ID: 3, Status: resultErr, Nanos: 5, Data: []byte("e")})
	f.Add(seed, 0)
	f.Add([]byte{1, 3, 0, 1, 0}, 1)
	f.Fuzz(func(t *testing.T, data []byte, nfds int) {
		nfds = max(0, min(nfds, 250))
		recs, err := decodeResults(data, nfds)
		if err != nil {
			return
		}
		used := 0
		for _, r := range recs {
			used += r.NFDs
			if r.Status > resultCancelled || len(r.Data) > len(data) {
				t.Fatalf("bad record %+v", r)
			}
		}
		if used != nfds {
			t.Fatalf("records claim %d descriptors of %d", used, nfds)
		}
	})
}

func FuzzDecodeInitCancel(f *testing.F) {
	f.Add(appendInit(nil, &initRec{Func: "init", Arg: []byte{1}, TaskTimeout: time.Second}))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		if in, err := decodeInit(data); err == nil && len(in.Func)+len(in.Arg) > len(data) {
			t.Fatalf("decoded more than the data: %+v", in)
		}
		if ids, err := decodeCancel(data); err == nil && len(ids) > len(data) {
			t.Fatalf("%d ids from %d bytes", len(ids), len(data))
		}
	})
}

func TestApartRecord(t *testing.T) {
	task := &Task{ID: 7, Func: "len", Items: 1, Arg: make([]byte, 300_000), FDs: []int{3, 4}}
	data := appendApart(nil, task)
	rec, n, err := decodeApart(data, 2, maxApart)
	if err != nil || rec.ID != 7 || rec.Func != "len" || rec.Items != 1 || rec.NFDs != 2 || rec.Arg != nil || n != 300_000 {
		t.Fatalf("decodeApart = %+v, %d, %v", rec, n, err)
	}
	withArg := appendTask(nil, &taskRec{ID: 1, Func: "f", Arg: []byte{1}})
	for name, c := range map[string]struct {
		data        []byte
		nfds, limit int
	}{
		"length over the limit":      {data, 2, 299_999},
		"descriptors without a task": {data, 3, maxApart},
		"trailing bytes":             {append(slices.Clone(data), 0), 2, maxApart},
		"argument inside":            {binary.AppendUvarint(withArg, 1), 0, maxApart},
		"no length":                  {appendTask(nil, &taskRec{ID: 1}), 0, maxApart},
		"two records":                {binary.AppendUvarint(appendTask(appendTask(nil, &taskRec{ID: 1}), &taskRec{ID: 2}), 5), 0, maxApart},
	} {
		if _, _, err := decodeApart(c.data, c.nfds, c.limit); !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("%s: %v, want errs.ErrProtocol", name, err)
		}
	}
}

func FuzzDecodeApart(f *testing.F) {
	f.Add(appendApart(nil, &Task{ID: 1, Func: "f", Arg: make([]byte, 70_000)}), 0)
	f.Add(appendApart(nil, &Task{ID: 2, Items: 3, FDs: []int{5}}), 1)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, data []byte, nfds int) {
		nfds = max(0, min(nfds, 250))
		rec, n, err := decodeApart(data, nfds, 1<<20)
		if err != nil {
			return
		}
		if rec.NFDs != nfds || n > 1<<20 || rec.Arg != nil {
			t.Fatalf("accepted %+v announcing %d bytes with %d descriptors", rec, n, nfds)
		}
		task := &Task{ID: rec.ID, Func: rec.Func, Items: rec.Items, Arg: make([]byte, n), FDs: make([]int, rec.NFDs)}
		if rec.Deadline != 0 {
			task.Deadline = time.Unix(0, rec.Deadline)
		}
		rec2, n2, err := decodeApart(appendApart(nil, task), nfds, 1<<20)
		if err != nil || !reflect.DeepEqual(rec2, rec) || n2 != n {
			t.Fatalf("re-encoded %+v (%d bytes) decodes as %+v (%d), %v", rec, n, rec2, n2, err)
		}
	})
}
