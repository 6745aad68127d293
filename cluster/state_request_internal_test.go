package cluster

import (
	"context"
	"testing"
	"time"
)

// startInternal starts an engine in a temp dir for a test of this
// package's internals.
func startInternal(t *testing.T) (*Cluster, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := Start(ctx, &Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

// TestPublishAgainStoresOnce publishes an item twice under one id, as a
// Put does when the engine died with its first attempt's reply: the queue
// holds it once.
func TestPublishAgainStoresOnce(t *testing.T) {
	c, ctx := startInternal(t)
	q, err := NewQueue[int](ctx, c, "once", nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encode(7)
	if err != nil {
		t.Fatal(err)
	}
	id := newMsgID()
	for range 2 {
		if err := q.publish(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.stored(ctx); err != nil || n != 1 {
		t.Fatalf("stored() = %d, %v after the same Put sent twice; want 1", n, err)
	}
	if err := q.publish(ctx, newMsgID(), data); err != nil {
		t.Fatal(err)
	}
	if n, err := q.stored(ctx); err != nil || n != 2 {
		t.Fatalf("stored() = %d, %v after a second Put; want 2", n, err)
	}
}

// TestKVWriteAgain sends writes to a key again under their ids, as a
// write whose reply was lost with the engine is sent: a write by revision
// whose first attempt was stored succeeds with that attempt's revision
// (not a conflict, which would make a read-modify-write apply its change
// twice); another write by the same revision is a conflict; an
// unconditional write sent again does not overwrite a newer one.
func TestKVWriteAgain(t *testing.T) {
	c, ctx := startInternal(t)
	cl, err := openCell(ctx, c, "value", "again")
	if err != nil {
		t.Fatal(err)
	}
	st := cl.st
	rev1, err := st.put(ctx, cl.key, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	id := newMsgID()
	rev2, err := st.write(ctx, id, cl.key, []byte("b"), false, &rev1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.write(ctx, id, cl.key, []byte("b"), false, &rev1)
	if err != nil || again != rev2 {
		t.Errorf("update sent again = %d, %v; want %d, nil", again, err, rev2)
	}
	if _, err := st.update(ctx, cl.key, []byte("c"), rev1); !isConflict(err) {
		t.Errorf("another update of revision %d: %v, want a conflict", rev1, err)
	}

	putID := newMsgID()
	if _, err := st.write(ctx, putID, cl.key, []byte("d"), false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.put(ctx, cl.key, []byte("e")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.write(ctx, putID, cl.key, []byte("d"), false, nil); err != nil {
		t.Fatal(err)
	}
	if e, err := st.get(ctx, cl.key); err != nil || string(e.Value()) != "e" {
		t.Errorf("after a put sent again, the key holds %v, %v; want the newer write e", e, err)
	}

	// A create finds a deleted key absent, and a create sent again
	// succeeds with its first revision.
	if err := st.delete(ctx, cl.key, nil); err != nil {
		t.Fatal(err)
	}
	cid := newMsgID()
	var zero uint64
	created, err := st.write(ctx, cid, cl.key, []byte("f"), false, &zero)
	if err != nil {
		t.Fatalf("create over a deleted key: %v", err)
	}
	if again, err := st.write(ctx, cid, cl.key, []byte("f"), false, &zero); err != nil || again != created {
		t.Errorf("create sent again = %d, %v; want %d, nil", again, err, created)
	}
	if _, err := st.update(ctx, cl.key, []byte("g"), 0); !isConflict(err) {
		t.Errorf("create of a key that is there: %v, want a conflict", err)
	}
}
