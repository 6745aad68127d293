package cluster

// PoolID returns the submitter id under which p's tasks travel, and its
// results come back.
func PoolID(p *Pool) string { return p.id }

// TaskEnvelope returns the body of a task message, as a Pool publishes it.
func TaskEnvelope(id uint64, submitter, fn string, arg []byte) []byte {
	t := taskMsg{ID: id, Submitter: submitter, Func: fn, Items: 1, Arg: arg}
	return t.append(nil)
}

// ResultError returns the error a result message carries (nil for a
// value), or the error of reading it.
func ResultError(data []byte) (carried error, err error) {
	r, err := decodeResult(data)
	switch {
	case err != nil:
		return nil, err
	case r.Kind == resultError:
		return r.Err, nil
	case r.Kind == resultDied:
		return r.Died, nil
	}
	return nil, nil
}
