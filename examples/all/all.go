// Package all imports every topic package of the tour, so that a program
// that imports it has every example registered.
package all

import (
	_ "github.com/mpgo/mp/examples/manager"
	_ "github.com/mpgo/mp/examples/pipe"
	_ "github.com/mpgo/mp/examples/pool"
	_ "github.com/mpgo/mp/examples/process"
	_ "github.com/mpgo/mp/examples/queue"
	_ "github.com/mpgo/mp/examples/shm"
	_ "github.com/mpgo/mp/examples/subprocess"
	_ "github.com/mpgo/mp/examples/sync"
	_ "github.com/mpgo/mp/examples/threading"
)
