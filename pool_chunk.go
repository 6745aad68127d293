package mp

import (
	"context"
	"fmt"
	"sync"

	"github.com/mpgo/mp/internal/wire"
)

// chunkInvoker runs a registered function over a chunk: arg is the CBOR
// array of the items, the result the CBOR array of their results. item is
// called before each item runs and returns the context for it and a
// function to call when it is done. The first item that fails fails the
// chunk, as in Python (the chunk is one task there).
type chunkInvoker func(ctx context.Context, arg []byte, fds []int, item func(i int) (context.Context, func())) ([]byte, []int, error)

// chunked holds the chunk invoker of every registered function.
var chunked = struct {
	sync.RWMutex
	m map[string]chunkInvoker
}{m: map[string]chunkInvoker{}}

// registerChunked is called by Register: decoding a whole chunk with one
// call of the codec, and encoding its results with one, is what makes Map
// over small items cheap.
func registerChunked[In, Out any](name string, fn func(context.Context, In) (Out, error)) {
	chunked.Lock()
	defer chunked.Unlock()
	chunked.m[name] = func(ctx context.Context, arg []byte, fds []int, item func(int) (context.Context, func())) ([]byte, []int, error) {
		var in []In
		if err := wire.Unmarshal(arg, fds, &in); err != nil {
			return nil, nil, fmt.Errorf("mp: decode the arguments of %s: %w", name, err)
		}
		out := make([]Out, len(in))
		for i := range in {
			ictx, done := item(i)
			o, err := callRecover(ictx, fn, in[i])
			done()
			if err != nil {
				return nil, nil, err
			}
			out[i] = o
		}
		return wire.Marshal(out)
	}
}

func lookupChunked(name string) (chunkInvoker, bool) {
	chunked.RLock()
	defer chunked.RUnlock()
	inv, ok := chunked.m[name]
	return inv, ok
}

// defaultChunk is Python's rule for map's chunk size: the items are spread
// over four chunks per worker, rounding up.
func defaultChunk(items, workers int) int {
	if items == 0 {
		return 0
	}
	chunk, extra := items/(workers*4), items%(workers*4)
	if extra != 0 {
		chunk++
	}
	return chunk
}
