package cluster

import (
	"github.com/nats-io/nats.go"
)

// The engine's file store keeps a stream in blocks, one file each. When
// the last message of the block being written is removed — which in a
// work-queue stream that its consumers keep up with happens at nearly
// every acknowledgement — it starts a new block file and removes the old
// one: here that costs about half the engine's time and half a task's
// round trip. So each of a pool's streams holds one more message, a
// keeper, on a subject no consumer reads, that keeps the block being
// written from becoming empty. A new keeper replaces the previous one
// (a roll-up) every keepEvery messages, so that once the store moves to a
// new block, a keeper follows it soon.
const keepEvery = 1024

// keep publishes a keeper to subject, without waiting for the engine.
func (p *Pool) keep(subject string) {
	m := nats.NewMsg(subject)
	m.Header.Set("Nats-Rollup", "sub")
	_ = p.c.nc.PublishMsg(m)
}
