package cluster

// TaskStream is the name of the stream of pool's tasks.
func TaskStream(pool string) string { return namesOf(pool, "-").tasks }

// DropAdvisories makes p miss the engine's advisories, as a Pool whose
// connection was down when they came would.
func (p *Pool) DropAdvisories() { _ = p.advisory.Unsubscribe() }

// ResultStream is the name of the stream of pool's results.
func ResultStream(pool string) string { return namesOf(pool, "-").results }
