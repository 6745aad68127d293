package manager

import (
	"fmt"
	"sync"
)

// Setup prepares a server that Start runs in a process of its own, before
// it listens: it registers the server's custom objects and factories
// (Python: BaseManager.register with a callable, followed by start(), which
// runs the callable in the manager's process). Make one with NewSetup.
type Setup struct {
	name string
}

var (
	setupsMu sync.Mutex
	setups   = map[string]func(*Server) error{}
)

// NewSetup records fn under name so that a server process can find it, and
// returns the Setup to put in Options. Call it at package level (in a var
// declaration or init), like mp.Register: the server's process runs this
// same program and must record the same setups before mp.Main. NewSetup
// panics if name is empty or taken, or fn is nil.
func NewSetup(name string, fn func(s *Server) error) Setup {
	if name == "" || fn == nil {
		panic("manager: NewSetup needs a name and a function")
	}
	setupsMu.Lock()
	defer setupsMu.Unlock()
	if _, dup := setups[name]; dup {
		panic(fmt.Sprintf("manager: setup %q registered twice", name))
	}
	setups[name] = fn
	return Setup{name: name}
}

// runSetup runs the setup recorded under name on s; an empty name is no
// setup.
func runSetup(name string, s *Server) error {
	if name == "" {
		return nil
	}
	setupsMu.Lock()
	fn, ok := setups[name]
	setupsMu.Unlock()
	if !ok {
		return fmt.Errorf("setup %q is not recorded in the server's process: call manager.NewSetup at package level, not inside a function", name)
	}
	if err := fn(s); err != nil {
		return fmt.Errorf("setup %q: %w", name, err)
	}
	return nil
}
