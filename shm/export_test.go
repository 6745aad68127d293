package shm

// StartTracker starts the segment tracker, so that tests that check for
// leftover processes and goroutines do not count it.
func StartTracker() error {
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	return startTrackerLocked()
}

// SegmentPath returns the path of the file of segment name.
func SegmentPath(name string) string { return segPath(name) }
