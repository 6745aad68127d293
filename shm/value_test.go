package shm_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
	"github.com/mpgo/mp/mptest"
	"github.com/mpgo/mp/shm"
)

func TestMain(m *testing.M) {
	mp.Main()
	if err := shm.StartTracker(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

type point struct {
	X, Y  float64
	Tag   int32
	Flags [3]bool
}

type shared struct {
	Num *shm.Value[float64]
	Arr *shm.Array[int32]
	Pt  *shm.Value[point]
}

var (
	// negateAndSquare reads the parent's values and writes new ones.
	negateAndSquare = mp.Register("test.shm.negateAndSquare", func(ctx context.Context, s shared) (int32, error) {
		defer s.Num.Close()
		defer s.Arr.Close()
		defer s.Pt.Close()
		var sum int32
		err := s.Arr.Update(ctx, func(a []int32) {
			for i := range a {
				sum += a[i]
				a[i] = int32(i * i)
			}
		})
		s.Num.Store(3.1415927)
		s.Pt.Update(ctx, func(p *point) { p.X, p.Tag, p.Flags[2] = -p.X, p.Tag+1, true })
		return sum, err
	})
	// increment adds one to a shared counter n times under its lock.
	increment = mp.Register("test.shm.increment", func(ctx context.Context, a struct {
		V *shm.Value[int64]
		N int
	}) (struct{}, error) {
		defer a.V.Close()
		for range a.N {
			if err := a.V.Update(ctx, func(p *int64) { *p++ }); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	// lockAndHang holds a Value's lock until killed.
	lockAndHang = mp.Register("test.shm.lockAndHang", func(ctx context.Context, a struct {
		V    *shm.Value[int64]
		Held *mp.Event
	}) (struct{}, error) {
		a.V.Lock(ctx)
		a.V.Store(-1) // half-way through a change
		a.Held.Set()
		time.Sleep(time.Hour)
		return struct{}{}, nil
	})
)

func TestValueArrayInChild(t *testing.T) {
	mptest.CheckLeaks(t)
	num, err := shm.NewValue(0.0)
	if err != nil {
		t.Fatal(err)
	}
	defer num.Close()
	init := make([]int32, 10)
	for i := range init {
		init[i] = int32(i)
	}
	arr, err := shm.NewArray(init)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Close()
	pt, err := shm.NewValue(point{X: 1.5, Tag: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	sum, err := mp.Call(context.Background(), negateAndSquare, shared{num, arr, pt})
	if err != nil {
		t.Fatal(err)
	}
	if sum != 45 {
		t.Errorf("the child read a sum of %d, want 45", sum)
	}
	if num.Load() != 3.1415927 {
		t.Errorf("num = %v, want 3.1415927", num.Load())
	}
	for i, v := range arr.Slice() {
		if v != int32(i*i) {
			t.Fatalf("arr = %v, want squares", arr.Copy())
		}
	}
	if got := pt.Load(); got != (point{X: -1.5, Tag: 8, Flags: [3]bool{false, false, true}}) {
		t.Errorf("point = %+v", got)
	}
}

func TestValueLockedIncrements(t *testing.T) {
	mptest.CheckLeaks(t)
	v, err := shm.NewValue(int64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const n = 5000
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := mp.Call(context.Background(), increment, struct {
				V *shm.Value[int64]
				N int
			}{v, n}); err != nil {
				t.Error(err)
			}
		})
	}
	for range n {
		v.Update(context.Background(), func(p *int64) { *p++ })
	}
	wg.Wait()
	if got := v.Load(); got != 3*n {
		t.Fatalf("counter = %d, want %d", got, 3*n)
	}
}

func TestValueOwnerDead(t *testing.T) {
	mptest.CheckLeaks(t)
	v, _ := shm.NewValue(int64(10))
	defer v.Close()
	held, _ := mp.NewEvent()
	defer held.Close()
	p := mp.Command(lockAndHang, struct {
		V    *shm.Value[int64]
		Held *mp.Event
	}{v, held})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	held.Wait(context.Background())
	p.Kill()
	p.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := v.Update(ctx, func(p *int64) {
		if *p == -1 { // repair what the dead holder left half-done
			*p = 10
		}
	})
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("Update after the holder died = %v, want ErrOwnerDead", err)
	}
	if v.Load() != 10 {
		t.Fatalf("value = %d after repair", v.Load())
	}
	if err := v.Update(ctx, func(p *int64) { *p++ }); err != nil {
		t.Fatalf("Update after repair = %v", err)
	}
}

func TestRawValue(t *testing.T) {
	mptest.CheckLeaks(t)
	v, err := shm.NewRawValue(uint32(5))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Lock(context.Background()); !errors.Is(err, shm.ErrNoLock) {
		t.Fatalf("Lock of a raw value = %v, want ErrNoLock", err)
	}
	if v.Mutex() != nil {
		t.Fatal("a raw value has a Mutex")
	}
	if err := v.Update(context.Background(), func(p *uint32) { *p *= 2 }); err != nil || v.Load() != 10 {
		t.Fatalf("Update = %v, value %d", err, v.Load())
	}
	a, err := shm.NewRawArray(make([]float32, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Len() != 0 {
		t.Fatalf("Len = %d", a.Len())
	}
}

func TestUnsupportedTypes(t *testing.T) {
	mptest.CheckLeaks(t)
	check := func(name string, err error) {
		t.Helper()
		var te *shm.TypeError
		if !errors.Is(err, shm.ErrUnsupportedType) || !errors.As(err, &te) {
			t.Errorf("%s: error %v, want a *TypeError matching ErrUnsupportedType", name, err)
		}
	}
	_, err := shm.NewValue("text")
	check("string", err)
	_, err = shm.NewValue(new(int))
	check("pointer", err)
	_, err = shm.NewArray([][]int{{1}})
	check("slice", err)
	_, err = shm.NewValue(struct {
		A int
		M map[int]int
	}{})
	check("struct with a map", err)
	_, err = shm.NewValue([2]any{})
	check("array of interfaces", err)
}

// A handle decoded as another element type is refused, even of the same size.
func TestValueTypeMismatch(t *testing.T) {
	mptest.CheckLeaks(t)
	v, _ := shm.NewValue(int64(1))
	defer v.Close()
	data, fds, err := wire.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var f shm.Value[float64]
	if err := wire.Unmarshal(data, fds, &f); !errors.Is(err, mp.ErrProtocol) && !errors.Is(err, errs.ErrProtocol) {
		t.Fatalf("decoding a Value[int64] as a Value[float64] = %v, want a protocol error", err)
	}
	data, fds, _ = wire.Marshal(v)
	var a shm.Array[int64]
	if err := wire.Unmarshal(data, fds, &a); err == nil {
		a.Close()
		t.Fatal("a Value decoded as an Array")
	}
}
