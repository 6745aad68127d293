package shm_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/shm"
)

var (
	// writeByName opens a segment by name, as an unrelated process would,
	// and writes its greeting.
	writeByName = mp.Register("test.shm.writeByName", func(_ context.Context, name string) (struct{}, error) {
		s, err := shm.Open(name)
		if err != nil {
			return struct{}{}, err
		}
		defer s.Close()
		copy(s.Bytes(), "hello from the child")
		return struct{}{}, nil
	})
	// createAndHang creates a segment, sends its name and waits to be
	// killed.
	createAndHang = mp.Register("test.shm.createAndHang", func(ctx context.Context, a struct {
		Keep bool
		Out  *mp.Conn
	}) (struct{}, error) {
		s, err := shm.Create("", 4096)
		if err != nil {
			return struct{}{}, err
		}
		copy(s.Bytes(), "kept")
		if a.Keep {
			s.Keep()
		}
		a.Out.Send(ctx, s.Name())
		time.Sleep(time.Hour)
		return struct{}{}, nil
	})
)

func exists(name string) bool {
	_, err := os.Stat(shm.SegmentPath(name))
	return err == nil
}

func TestSegmentCreateOpen(t *testing.T) {
	mptest.CheckLeaks(t)
	s, err := shm.Create("", 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unlink()
	defer s.Close()
	if s.Size() != 10000 || !exists(s.Name()) {
		t.Fatalf("size %d, exists %v", s.Size(), exists(s.Name()))
	}
	if _, err := shm.Create(s.Name(), 10); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create of a taken name = %v, want fs.ErrExist", err)
	}
	if _, err := mp.Call(context.Background(), writeByName, "/"+s.Name()); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Bytes()[:20]); got != "hello from the child" {
		t.Fatalf("the segment holds %q", got)
	}
	o, err := shm.Open(s.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Size() != 10000 || o.Bytes()[0] != 'h' {
		t.Fatalf("opened: size %d", o.Size())
	}
}

func TestSegmentErrors(t *testing.T) {
	mptest.CheckLeaks(t)
	if _, err := shm.Open("mp-no-such-segment"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing segment = %v, want fs.ErrNotExist", err)
	}
	for _, name := range []string{"a/b", "..", "/", string(make([]byte, 300))} {
		if _, err := shm.Create(name, 10); !errors.Is(err, shm.ErrBadName) {
			t.Errorf("Create(%q) = %v, want ErrBadName", name, err)
		}
	}
	if _, err := shm.Create("", 0); err == nil {
		t.Error("Create of size 0 succeeded")
	}
}

func TestSegmentUnlinkedAfterCreatorCrash(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, keep := range []bool{false, true} {
		name := crashCreator(t, keep)
		deadline := time.Now().Add(10 * time.Second)
		for exists(name) && !keep && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !keep {
			if exists(name) {
				t.Fatalf("segment %s left behind after its creator was killed", name)
			}
			continue
		}
		time.Sleep(200 * time.Millisecond) // time enough to be wrongly removed
		s, err := shm.Open(name)
		if err != nil {
			t.Fatalf("a kept segment is gone after its creator was killed: %v", err)
		}
		if string(s.Bytes()[:4]) != "kept" {
			t.Errorf("kept segment holds %q", s.Bytes()[:4])
		}
		s.Close()
		if err := s.Unlink(); err != nil || exists(name) {
			t.Fatalf("Unlink = %v", err)
		}
	}
}

// crashCreator starts a process that creates a segment, and kills it.
func crashCreator(t *testing.T, keep bool) string {
	t.Helper()
	r, w, err := mp.Pipe(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := mp.Command(createAndHang, struct {
		Keep bool
		Out  *mp.Conn
	}{keep, w})
	err = p.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var name string
	if err := r.Recv(ctx, &name); err != nil {
		t.Fatal(err)
	}
	if !exists(name) {
		t.Fatalf("segment %s does not exist while its creator runs", name)
	}
	p.Kill()
	p.Wait(context.Background())
	return name
}

// Created lists the segments this process made until they are unlinked or
// kept.
func TestSegmentCreated(t *testing.T) {
	mptest.CheckLeaks(t)
	a, err := shm.Create("", 64)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := shm.Create("", 64)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := shm.Created(); !slices.Contains(got, a.Name()) || !slices.Contains(got, b.Name()) {
		t.Fatalf("Created = %v, want %s and %s among them", got, a.Name(), b.Name())
	}
	if err := a.Unlink(); err != nil {
		t.Fatal(err)
	}
	if err := b.Keep(); err != nil {
		t.Fatal(err)
	}
	defer b.Unlink()
	if got := shm.Created(); slices.Contains(got, a.Name()) || slices.Contains(got, b.Name()) {
		t.Fatalf("Created = %v after Unlink and Keep", got)
	}
}
