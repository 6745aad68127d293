// Package funcs holds the functions registered to run in other processes,
// by name, in the untyped form every layer below package mp calls them in:
// an encoded argument in, an encoded result out. Package mp's Register
// makes these forms from typed Go functions.
package funcs

import (
	"context"
	"fmt"
	"sync"
)

// Invoker runs a registered function on an encoded argument (with the
// descriptors of the handles inside it, which it takes over) and returns
// its encoded result and the result's descriptors. arg is the invoker's:
// the caller neither reads nor reuses it afterwards, so that byte slices
// in it can be handed to the function where they lie
// (wire.UnmarshalOwned).
type Invoker func(ctx context.Context, arg []byte, fds []int) (result []byte, resultFDs []int, err error)

// ChunkInvoker runs a registered function over a chunk: arg is the CBOR
// array of the items, the result the CBOR array of their results. arg is
// the invoker's, as an Invoker's. item is
// called before each item runs and returns the context for it and a
// function to call when it is done. How an item's failure is reported is
// package mp's choice, made per chunk: a chunk of Map fails with its first
// failing item, as in Python (the chunk is one task there); one of MapEach
// or Imap returns each item's outcome in its result.
type ChunkInvoker func(ctx context.Context, arg []byte, fds []int, item func(i int) (context.Context, func())) ([]byte, []int, error)

type entry struct {
	one   Invoker
	chunk ChunkInvoker
}

// registry holds every registered function by name. Registration happens
// at package level, before mp.Main; lookups after it.
var registry = struct {
	sync.RWMutex
	m map[string]entry
}{m: map[string]entry{}}

// Add registers a function's two forms under name. It panics if the name
// is taken.
func Add(name string, one Invoker, chunk ChunkInvoker) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic(fmt.Sprintf("mp: function %q registered twice", name))
	}
	registry.m[name] = entry{one, chunk}
}

// Lookup returns the invoker of the function registered as name.
func Lookup(name string) (Invoker, bool) {
	registry.RLock()
	defer registry.RUnlock()
	e, ok := registry.m[name]
	return e.one, ok
}

// LookupChunk returns the chunk invoker of the function registered as name.
func LookupChunk(name string) (ChunkInvoker, bool) {
	registry.RLock()
	defer registry.RUnlock()
	e, ok := registry.m[name]
	return e.chunk, ok
}
