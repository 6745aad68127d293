package threading

import (
	"time"
)

// tick stands for one second of the seed programs: the examples keep their
// rhythm ten times faster, so that the tour reads quickly.
const tick = 100 * time.Millisecond
