package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// fenced is the counter the lock experiment's holders increment: its
// writer refuses a token smaller than the last one it took.
type fenced struct {
	Token uint64
	Count int
}

// chaosLockJob tells a holder which lock to take and where to log.
type chaosLockJob struct {
	URL, Name string
	TTL       time.Duration
	// Stop is a file: the holder returns once it exists, after an Unlock.
	Stop string
	Log  runLog
}

// A holder's log lines, one per step, each with its fencing token:
//
//	T  about to Lock
//	L  Lock returned the lock
//	D  Lock returned it with ErrOwnerDead
//	W  the counter took its write
//	F  the counter refused its token (a smaller one than the last)
//	V  another write came between its read and write: a violation
//	X  about to Unlock
//	U  Unlock returned
//	N  Unlock returned ErrNotOwner
var chaosLockHolder = mp.Register("cluster_test.chaosLockHolder", func(ctx context.Context, j chaosLockJob) (struct{}, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return struct{}{}, err
	}
	defer c.Close()
	l, err := cluster.NewLock(ctx, c, j.Name, &cluster.LockOptions{TTL: j.TTL})
	if err != nil {
		return struct{}{}, err
	}
	d, err := cluster.NewDict[string, fenced](ctx, c, j.Name)
	if err != nil {
		return struct{}{}, err
	}
	step := func(what string, token uint64) error { return j.Log.add(fmt.Sprintf("%s %d", what, token)) }
	for {
		if _, err := os.Stat(j.Stop); err == nil {
			return struct{}{}, nil
		}
		if err := step("T", 0); err != nil {
			return struct{}{}, err
		}
		token, err := l.Lock(ctx)
		switch {
		case errors.Is(err, mp.ErrOwnerDead):
			err = step("D", token)
		case err != nil:
			return struct{}{}, err
		default:
			err = step("L", token)
		}
		if err != nil {
			return struct{}{}, err
		}
		if err := fencedAdd(ctx, d, token, step); err != nil {
			return struct{}{}, err
		}
		if err := step("X", token); err != nil {
			return struct{}{}, err
		}
		err = l.Unlock(ctx)
		switch {
		case errors.Is(err, mp.ErrNotOwner):
			err = step("N", token)
		case err != nil:
			return struct{}{}, err
		default:
			err = step("U", token)
		}
		if err != nil {
			return struct{}{}, err
		}
	}
})

// fencedAdd adds 1 to the counter with token, as a fenced writer would:
// refused if the counter saw a greater token, a violation if it changed
// between the read and the write (two holders at once).
func fencedAdd(ctx context.Context, d *cluster.Dict[string, fenced], token uint64, step func(string, uint64) error) error {
	cur, rev, _, err := d.Entry(ctx, "counter")
	if err != nil {
		return err
	}
	if cur.Token > token {
		return step("F", token)
	}
	// The window in which a second holder would show.
	time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
	_, ok, err := d.SetIfRevision(ctx, "counter", fenced{Token: token, Count: cur.Count + 1}, rev)
	switch {
	case err != nil:
		return err
	case !ok:
		return step("V", token)
	}
	return step("W", token)
}

// TestChaosLockHoldersKilled has three processes take a Lock in turn and
// increment a fenced counter under it, and SIGKILLs them at random
// moments, starting another each time. It counts violations of mutual
// exclusion (must be 0), writes the fence refused, and the ErrOwnerDead
// reports, which must match the kills that hit a holder: at least the
// kills between Lock and Unlock, at most those plus the kills inside Lock
// or Unlock, whose outcome the log cannot tell.
func TestChaosLockHoldersKilled(t *testing.T) {
	ctx := bounded(t, time.Duration(pick(60, 300))*time.Second)
	c := start(t, nil)
	const holders = 3
	kills := pick(3, 15)
	dir := t.TempDir()
	stop := filepath.Join(dir, "stop")
	logs := 0
	newJob := func() chaosLockJob {
		logs++
		log := runLog(filepath.Join(dir, fmt.Sprintf("holder%d", logs)))
		if err := os.WriteFile(string(log), []byte("S 0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return chaosLockJob{URL: c.URL(), Name: "chaoslock", TTL: time.Second, Stop: stop, Log: log}
	}
	type holder struct {
		p   *mp.Process
		job chaosLockJob
	}
	run := func() holder {
		j := newJob()
		return holder{startChild(t, mp.Command(chaosLockHolder, j)), j}
	}
	var live []holder
	var all []chaosLockJob
	for range holders {
		h := run()
		live, all = append(live, h), append(all, h.job)
	}

	// Kill holders at random moments while they hold the lock, starting
	// another each time.
	var victims []chaosLockJob
	for len(victims) < kills {
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(100 * time.Millisecond)))):
		case <-ctx.Done():
			t.Fatal("hung while killing")
		}
		// A holder that holds the lock now, as its log says; if none
		// does (the lock is changing hands, or waits for a dead holder's
		// TTL), another moment.
		i := -1
		for k, h := range live {
			if lines := h.job.Log.lines(t); strings.Contains("LDWFV", lines[len(lines)-1][:1]) {
				i = k
			}
		}
		if i < 0 {
			continue
		}
		h := live[i]
		select {
		case <-h.p.Done():
			t.Fatalf("holder exited before its kill: %v", h.p.Wait(ctx))
		default:
		}
		if err := syscall.Kill(h.p.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = h.p.Wait(ctx)
		victims = append(victims, h.job)
		live[i] = run()
		all = append(all, live[i].job)
	}
	if err := os.WriteFile(stop, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, h := range live {
		if err := h.p.Wait(ctx); err != nil {
			t.Fatalf("holder: %v", err)
		}
	}

	steps := map[string]int{}
	for _, j := range all {
		for _, line := range j.Log.lines(t) {
			steps[line[:1]]++
		}
	}
	var held, inLock, inUnlock int
	for _, j := range victims {
		lines := j.Log.lines(t)
		switch last := lines[len(lines)-1][:1]; {
		case strings.Contains("LDWFV", last):
			held++
		case last == "T":
			inLock++
		case last == "X":
			inUnlock++
		}
	}
	d, err := cluster.NewDict[string, fenced](ctx, c, "chaoslock")
	if err != nil {
		t.Fatal(err)
	}
	final, _, err := d.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	tl := newTally(t)
	tl.count("acquisitions", steps["L"]+steps["D"])
	tl.count("kills", len(victims))
	tl.count("killedHolding", held)
	tl.count("killedInLock", inLock)
	tl.count("killedInUnlock", inUnlock)
	tl.expect("violations", steps["V"], 0)
	tl.count("fenceRefused", steps["F"])
	tl.expect("notOwnerOnUnlock", steps["N"], 0)
	tl.count("ownerDead", steps["D"])
	tl.atMost("ownerDeadMissing", max(0, held-steps["D"]), 0)
	tl.atMost("ownerDeadUnexplained", max(0, steps["D"]-held-inLock-inUnlock), 0)
	tl.count("counter", final.Count)
	tl.atMost("counterPastWrites", final.Count-steps["W"], held)
	tl.expect("writesLostFromCounter", max(0, steps["W"]-final.Count), 0)
	tl.report()
}
