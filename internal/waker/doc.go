// Package waker makes process-local wakers: a descriptor that poll(2) and
// Go's poller see readable once the waker is set, until it is cleared. Wait
// polls one with the descriptors of its objects so that another goroutine
// can end the poll; a Listener keeps one readable while a connection waits
// to be accepted, for Wait.
//
// On Linux a waker is an eventfd. On the portable set it is a pipe (two
// descriptors, which never leave the process): set writes a byte to one
// end, the other end is what is polled, and clear drains it.
package waker
