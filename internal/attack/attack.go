// Package attack is what the flood tests of mp's servers (a Listener, a
// manager) do with the connections they open: the behaviour of an
// attacker that does not have the key.
package attack

import (
	"net"
	"time"
)

// Hold keeps one attacking connection until the server closes it or stop
// is closed. kind says what the attacker does: 0 says nothing, 1 sends
// garbage, 2 sends one byte a second.
func Hold(nc *net.TCPConn, kind int, stop <-chan struct{}) {
	nc.SetLinger(0)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		buf := make([]byte, 512)
		for {
			if _, err := nc.Read(buf); err != nil {
				return
			}
		}
	}()
	defer func() { nc.Close(); <-closed }()
	switch kind {
	case 1:
		nc.Write([]byte("GET / HTTP/1.1\r\nHost: server\r\n\r\n"))
	case 2:
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if _, err := nc.Write([]byte{'m'}); err != nil {
				return
			}
			select {
			case <-t.C:
			case <-closed:
				return
			case <-stop:
				return
			}
		}
	}
	select {
	case <-closed:
	case <-stop:
	}
}
