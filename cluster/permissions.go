package cluster

import "github.com/nats-io/nats-server/v2/server"

// workerPermissions are what the worker identity may publish and
// subscribe to: the subjects of a Pool's workers and nothing else.
func workerPermissions() *server.Permissions {
	return nil // every subject until the Pool's subjects are fixed
}
