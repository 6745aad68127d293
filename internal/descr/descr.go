// Package descr holds the one helper every layer of mp needs for the file
// descriptors it receives and hands on.
package descr

import "golang.org/x/sys/unix"

// Close closes descriptors this process holds, ignoring errors: they are
// released, whatever the kernel says.
func Close(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
