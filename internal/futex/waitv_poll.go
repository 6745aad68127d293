//go:build !linux || mpportable

package futex

import "time"

// Outside Linux no kernel waits on several words: WaitAny polls them all
// (see poll.go), and a Wake of any of them in this process ends it at once.

func canWaitAny() bool { return true }

func waitAny(ws []Word, timeout time.Duration) error {
	poll(ws, timeout)
	return nil
}
