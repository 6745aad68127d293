package cluster

import "github.com/mpgo/mp"

// The environment that makes Main a worker: the engine's URL, and how to
// authenticate to it.
const (
	// EnvJoin is the engine's URL; when set, Main runs a worker.
	EnvJoin = "MP_CLUSTER_JOIN"
	// EnvKeyFile names a file holding the key (see ReadKey).
	EnvKeyFile = "MP_CLUSTER_KEY_FILE"
	// EnvCA names a PEM file of the certificate authorities to trust, for
	// a tls:// URL; EnvCert and EnvCertKey a client certificate and its
	// key, for mutual TLS.
	EnvCA      = "MP_CLUSTER_CA"
	EnvCert    = "MP_CLUSTER_CERT"
	EnvCertKey = "MP_CLUSTER_CERT_KEY"
	// EnvPool names the pool to work for; empty means "default".
	EnvPool = "MP_CLUSTER_POOL"
	// EnvProcesses is the number of local worker processes; empty means
	// one per CPU.
	EnvProcesses = "MP_CLUSTER_PROCESSES"
)

// Main is mp.Main for programs that use this package: the first statement
// of main and of TestMain.
func Main() {
	mp.Main()
}
