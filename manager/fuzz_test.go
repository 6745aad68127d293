package manager

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/internal/wire"
)

// FuzzRequest decodes arbitrary frames as requests and runs the decodable
// ones against a server's connection: the reply, if any, is an error or a
// value, never a panic.
func FuzzRequest(f *testing.F) {
	for _, r := range []request{
		{ID: 1, Method: opCreate, Args: rawArgs(createArgs{Kind: KindDict})},
		{ID: 2, Obj: 1, Method: "set", Args: rawArgs("k", 1)},
		{ID: 3, Obj: 1, Method: "get", Args: rawArgs("k")},
		{ID: 4, Obj: 1, Method: "add", Args: rawArgs("k", 2.5)},
		{ID: 5, Method: opCreate, Args: rawArgs(createArgs{Kind: KindQueue, Size: 1})},
		{ID: 6, Obj: 2, Method: "get", Timeout: -1},
		{ID: 7, Method: opLookup, Args: rawArgs("x")},
		{ID: 8, Method: opCreate, Args: rawArgs(createArgs{Kind: KindList, Init: mustRaw([]int{1, 2})})},
		{ID: 9, Obj: 3, Method: "slice", Args: rawArgs(-5, 9)},
		{ID: 10, Obj: 3, Method: "repeat", Args: rawArgs(1 << 40)},
		{ID: 11, Obj: 3, Method: "setslice", Args: rawArgs(-1, 1, []int{3})},
		{ID: 12, Obj: 3, Method: "sort", Args: rawArgs(true)},
		{ID: 13, Obj: 3, Method: "index", Args: rawArgs(2, -100)},
		{ID: 14, Obj: 3, Method: "reorder", Args: rawArgs([]int{}, []int{1})},
		{ID: 15, Obj: 1, Method: "popitem"},
		{ID: 16, Obj: 2, Method: "putback", Args: rawArgs("x")},
		{ID: 17, Method: opLookup, Args: rawArgs("x", []string{"int"}, []Kind{KindDict})},
	} {
		data, _, _ := wire.Marshal(r)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeRequest(data)
		if err != nil {
			return
		}
		srv := NewServer(&ServerOptions{AuthKey: []byte("k")})
		a, b := net.Pipe()
		defer b.Close()
		go func() {
			buf := make([]byte, 1<<16)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		c := newServerConn(context.Background(), srv, a)
		// Set up objects 1–3 so that calls on them reach real code.
		for _, k := range []Kind{KindDict, KindQueue, KindList} {
			obj, _ := newObject(k, 0, nil)
			srv.addObject(c, obj, nil)
		}
		if req.Timeout >= 0 {
			req.Timeout = int64(time.Millisecond) // blocking calls end quickly
		}
		c.dispatch(req)
		c.finish()
	})
}

// FuzzReply decodes arbitrary frames as replies.
func FuzzReply(f *testing.F) {
	data, _, _ := wire.Marshal(reply{ID: 1, Value: mustRaw(3), Err: &errorBody{Message: "m", Sentinels: []string{"mp.ErrEmpty"}}})
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := decodeReply(data)
		if err != nil || rep.Err == nil {
			return
		}
		_ = bodyToError(rep.Err, "x", 1).Error()
	})
}

func mustRaw(v any) cbor.RawMessage {
	raw, err := encode(v)
	if err != nil {
		panic(err)
	}
	return raw
}
