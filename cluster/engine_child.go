package cluster

import (
	"context"
	"errors"
)

// startChild starts an engine in a child process.
func startChild(ctx context.Context, o Options, key []byte) (engine, error) {
	return nil, errors.New("cluster: Options.Process is not built yet")
}
