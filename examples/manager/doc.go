// Package manager ports the seed programs about managers: shared dicts and
// lists, queues shared through a manager, and the distributed task master and
// task worker over TCP with an authkey.
package manager
