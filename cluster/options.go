package cluster

import (
	"crypto/tls"
	"log/slog"
)

// Options configure the engine Start runs. The zero value runs it in this
// process, on loopback, with a file store in the user's cache directory.
type Options struct {
	// Dir is the file store's directory. Empty means a directory for this
	// program, by the name of its executable, under os.UserCacheDir
	// (~/.cache/mp/cluster/<program> on Linux). One engine at a time uses
	// a store: Start fails with ErrStoreInUse while another engine of this
	// package, in any process, runs on it.
	Dir string
	// Listen is the address other processes and machines reach the engine
	// at, host:port; empty means 127.0.0.1 on a port the system chooses.
	// An address off loopback, or with no host (every interface), needs
	// Key and TLS (ErrInsecure).
	Listen string
	// Key authenticates clients and workers: each proves it holds the key
	// without sending it. Empty means this process's mp.Current().AuthKey,
	// which mp's child processes inherit; programs started by other means
	// must be given the key.
	Key []byte
	// TLS, if set, is the engine's TLS configuration (a certificate, and
	// ClientCAs with ClientAuth tls.RequireAndVerifyClientCert for mutual
	// TLS); ServerTLS builds one from PEM files. This process reaches its
	// own engine without TLS.
	TLS *tls.Config
	// Process runs the engine in a child process of this program instead
	// of in this process. The child dies with this process; if it dies
	// alone, it is started again, with the same store and port, and
	// clients reconnect by themselves; each restart is logged at Warn.
	// Close stops it for good. Its TLS configuration must hold its
	// certificates in Certificates, and it cannot do mutual TLS.
	Process bool
	// SyncAlways makes the store write every message to disk before it is
	// acknowledged, instead of every two minutes; see docs/cluster.md for
	// what each loses to a power cut.
	SyncAlways bool
	// Logger receives the engine's logs (notices at Info, warnings at
	// Warn, errors at Error) and the restarts of its process; nil means
	// mp's logger (see mp.SetLogger).
	Logger *slog.Logger
}

// ConnectOptions configure Connect.
type ConnectOptions struct {
	// Key is the engine's key (see Options.Key); empty means this
	// process's mp.Current().AuthKey.
	Key []byte
	// TLS is the client's TLS configuration: RootCAs to trust the engine,
	// a certificate for mutual TLS. Needed for a tls:// URL.
	TLS *tls.Config
	// Name names the connection in the engine's monitoring.
	Name string
	// Worker connects with the key's worker identity, which may do only
	// what a Pool's worker needs (see workerPermissions), instead of its
	// client identity, which may do anything.
	Worker bool
}
