package cluster

// EnginePID returns the process id of c's engine when it runs in a child
// process, 0 otherwise (or while it is being started again).
func EnginePID(c *Cluster) int {
	if ch, ok := c.engine.(*child); ok {
		return ch.pid()
	}
	return 0
}

// StoreDir returns the store directory of c's engine.
func StoreDir(c *Cluster) string {
	switch e := c.engine.(type) {
	case *child:
		return e.arg.Config.Dir
	case *embedded:
		return e.dir
	}
	return ""
}
