package proc

import (
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Info describes a process: mp.ProcessInfo.
type Info struct {
	Name     string
	Pid      int
	Daemon   bool
	AuthKey  []byte
	Identity []int
}

// self is what this process knows about itself.
var self struct {
	// mu guards the fields below.
	mu       sync.Mutex
	info     Info
	children int // how many processes this process has created
}

func init() {
	self.info = Info{Name: "MainProcess", Pid: os.Getpid()}
}

// Self describes this process. The first process's authentication key is
// made on first use: 32 random bytes, inherited by every child.
func Self() Info {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.info.AuthKey == nil {
		self.info.AuthKey = make([]byte, 32)
		rand.Read(self.info.AuthKey)
	}
	info := self.info
	info.AuthKey = slices.Clone(info.AuthKey)
	info.Identity = slices.Clone(info.Identity)
	return info
}

// setSelf records what the parent told a child about itself.
func setSelf(m *startMsg) {
	self.mu.Lock()
	defer self.mu.Unlock()
	self.info = Info{Name: m.Name, Pid: os.Getpid(), Daemon: m.Daemon, AuthKey: m.AuthKey, Identity: m.Identity}
}

// NextChild returns the identity and default name ("Process-2:1") of the
// next child this process creates.
func NextChild() ([]int, string) {
	self.mu.Lock()
	defer self.mu.Unlock()
	self.children++
	id := append(slices.Clone(self.info.Identity), self.children)
	parts := make([]string, len(id))
	for i, n := range id {
		parts[i] = strconv.Itoa(n)
	}
	return id, fmt.Sprintf("Process-%s", strings.Join(parts, ":"))
}
