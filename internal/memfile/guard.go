package memfile

// Guard names what a sealed file guarantees to every process that holds it.
type Guard uint8

const (
	// FixedSize: nobody can shrink or grow the file (F_SEAL_SHRINK,
	// F_SEAL_GROW).
	FixedSize Guard = 1 << iota
	// FixedBytes: nobody can write to the file (F_SEAL_WRITE).
	FixedBytes
)
