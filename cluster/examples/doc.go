// Package examples holds the tour's examples of the cluster module: the
// distributed task master and workers of the seed programs (68 and 69,
// whose manager-based ports are in the core's examples/manager), and mp's
// Pool, queues and locks past one machine, on the JetStream engine.
// `mpcluster tour` runs them, the way `mp tour` runs the core's.
package examples
