//go:build !race

package mp

// raceSync is empty outside race-detector builds; see race_sync_on.go.
type raceSync struct{}

func (*raceSync) acquired()  {}
func (*raceSync) releasing() {}
