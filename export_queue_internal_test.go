package mp

import "github.com/mpgo/mp/internal/queue"

// QueueLen returns the number of items on q's queue: q is any kind of
// queue, also one without a Len method.
func QueueLen(q any) int { return q.(interface{ core() *queue.Core }).core().Len() }
