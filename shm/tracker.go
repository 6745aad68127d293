package shm

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/background"
	"golang.org/x/sys/unix"
)

// The tracker is a child process that outlives nothing: it holds the names
// of the segments its parent created and did not keep or unlink, and
// removes them once the parent's end of their pipe closes — when the parent
// ends, however it ends.

// trackMsg is one message to the tracker.
type trackMsg struct {
	Add  bool // true to track Name, false to forget it
	Name string
}

var trackerFn = mp.Register("mp.shm.tracker", runTracker)

// runTracker is the tracker process: it reads names until its parent's end
// of the pipe closes, then unlinks the names it still holds.
func runTracker(ctx context.Context, c *mp.Conn) (struct{}, error) {
	defer c.Close()
	// The parent waits for this before it creates a segment: a process
	// whose parent dies before its function runs never runs it.
	if err := c.Send(ctx, "ready"); err != nil {
		return struct{}{}, err
	}
	names := map[string]bool{}
	for {
		var m trackMsg
		// Not the function's context: that ends when the parent dies, and
		// the names it sent just before must still be read.
		// Any error (io.EOF most often) means the parent is gone.
		if err := c.Recv(context.Background(), &m); err != nil {
			break
		}
		if m.Add {
			names[m.Name] = true
		} else {
			delete(names, m.Name)
		}
	}
	for name := range names {
		unix.Unlink(segPath(name))
	}
	return struct{}{}, nil
}

// tracker is this process's tracker, started at the first Create.
var tracker struct {
	// mu guards the fields below and orders messages.
	mu   sync.Mutex
	conn *mp.Conn
	p    *mp.Process
	err  error
}

// startTrackerLocked starts the tracker if it is not running; mu is held.
func startTrackerLocked() error {
	if tracker.conn != nil || tracker.err != nil {
		return tracker.err
	}
	mine, theirs, err := mp.Pipe(true)
	if err != nil {
		tracker.err = err
		return err
	}
	defer theirs.Close()
	p := mp.Command(trackerFn, theirs)
	p.Name = "shm-tracker"
	p.StartMethod = mp.Spawn
	background.MarkLifetime(p)
	if err := p.Start(); err != nil {
		mine.Close()
		tracker.err = fmt.Errorf("shm: start the segment tracker: %w", err)
		return tracker.err
	}
	if err := awaitReady(mine); err != nil {
		p.Kill()
		mine.Close()
		tracker.err = fmt.Errorf("shm: start the segment tracker: %w", err)
		return tracker.err
	}
	tracker.conn, tracker.p = mine, p
	// The tracker lives as long as this process: leak checks of tests
	// should not count it.
	background.TrackObject(p.Pid(), mine)
	return nil
}

func sendTracker(m trackMsg) error {
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	if err := startTrackerLocked(); err != nil {
		return err
	}
	if err := tracker.conn.Send(context.Background(), m); err != nil {
		return fmt.Errorf("shm: tell the segment tracker: %w", err)
	}
	return nil
}

// created holds the names of the segments this process created and has
// neither unlinked nor kept.
var created struct {
	mu    sync.Mutex
	names map[string]bool
}

// Created returns the names of the segments this process created that are
// still in place: neither unlinked (Unlink) nor kept (Keep). They are the
// names the tracker removes when this process ends; a test can check that
// none is left behind (mptest.CheckLeaks does).
func Created() []string {
	created.mu.Lock()
	defer created.mu.Unlock()
	out := make([]string, 0, len(created.names))
	for name := range created.names {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// track hands a segment this process created to the tracker, and records
// it until it is unlinked or kept.
func track(name string) error {
	created.mu.Lock()
	if created.names == nil {
		created.names = map[string]bool{}
	}
	created.names[name] = true
	created.mu.Unlock()
	return sendTracker(trackMsg{Add: true, Name: name})
}

func untrack(name string) error {
	created.mu.Lock()
	delete(created.names, name)
	created.mu.Unlock()
	return sendTracker(trackMsg{Add: false, Name: name})
}

// trackerStartTimeout bounds the start of the tracker.
const trackerStartTimeout = 30 * time.Second

func awaitReady(c *mp.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), trackerStartTimeout)
	defer cancel()
	var msg string
	return c.Recv(ctx, &msg)
}
