package cluster

import (
	"errors"

	"github.com/mpgo/mp"
)

var (
	// ErrAuthentication reports a key the engine refused, or an engine that
	// could not prove it knows the key. It matches mp.ErrAuthentication.
	ErrAuthentication error = &sentinel{"cluster: authentication failed", mp.ErrAuthentication}
	// ErrInsecure reports an engine asked to listen off loopback without a
	// key and TLS. It matches mp.ErrInsecure.
	ErrInsecure error = &sentinel{"cluster: refusing to listen off loopback without a key and TLS", mp.ErrInsecure}
	// ErrClosed reports the use of a Cluster, or of something made on it,
	// after Close.
	ErrClosed = errors.New("cluster: closed")
	// ErrEngine reports an engine that could not be started or reached.
	ErrEngine = errors.New("cluster: engine unavailable")
	// ErrPermission reports something the engine refused the connection's
	// identity: a worker's connection used for what only a client may do,
	// such as making a Pool.
	ErrPermission = errors.New("cluster: permission denied")
)

// sentinel is an error of this package that also matches the core
// module's sentinel of the same meaning.
type sentinel struct {
	msg  string
	also error
}

func (s *sentinel) Error() string        { return s.msg }
func (s *sentinel) Is(target error) bool { return target == s.also }

// Connections and stores.
var (
	// ErrTLS reports a connection that failed for TLS: a certificate the
	// other side does not trust, TLS on one side only, or mutual TLS
	// without a client certificate. The error it comes with says which.
	ErrTLS = errors.New("cluster: TLS failed")
	// ErrStoreInUse reports a store directory that another engine, in this
	// process or another, is using; two engines on one store would corrupt
	// it. An error that matches it matches ErrEngine too.
	ErrStoreInUse = errors.New("cluster: store directory in use by another engine")
)

func init() {
	mp.RegisterError("cluster.ErrTLS", ErrTLS)
	mp.RegisterError("cluster.ErrStoreInUse", ErrStoreInUse)
}

func init() {
	mp.RegisterError("cluster.ErrAuthentication", ErrAuthentication)
	mp.RegisterError("cluster.ErrInsecure", ErrInsecure)
	mp.RegisterError("cluster.ErrClosed", ErrClosed)
	mp.RegisterError("cluster.ErrEngine", ErrEngine)
	mp.RegisterError("cluster.ErrPermission", ErrPermission)
}

// Shared state.
var (
	// ErrNotFound reports a Namespace field that is not there.
	ErrNotFound = errors.New("cluster: not found")
	// ErrIndex reports a List index out of range (Python: IndexError).
	ErrIndex = errors.New("cluster: index out of range")
)

func init() {
	mp.RegisterError("cluster.ErrNotFound", ErrNotFound)
	mp.RegisterError("cluster.ErrIndex", ErrIndex)
}
