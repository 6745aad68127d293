package mp

// EventWaiters returns how many wait on e now, in every process: tests use
// it to act once every waiter is asleep instead of guessing with a sleep.
func EventWaiters(e *Event) int { return e.st.Waiters() }
