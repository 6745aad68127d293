package transport_test

import "github.com/mpgo/mp/internal/descr"

// pipeCloexec makes *p a new close-on-exec pipe.
func pipeCloexec(p *[2]int) (err error) {
	*p, err = descr.Pipe()
	return err
}
