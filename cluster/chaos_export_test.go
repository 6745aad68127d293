package cluster

// PoolID returns the submitter id under which p's tasks travel, and its
// results come back.
func PoolID(p *Pool) string { return p.id }

// TaskEnvelope returns the body of a task message, as a Pool publishes it.
func TaskEnvelope(id uint64, submitter, fn string, arg []byte) []byte {
	t := taskMsg{ID: id, Submitter: submitter, Func: fn, Items: 1, Arg: arg}
	return t.append(nil)
}

// ResultErrors returns the errors a message of results carries, one per
// result (nil for a value), or the error of reading it: a worker sends the
// results that finish together as one message.
func ResultErrors(data []byte) (carried []error, err error) {
	rs, err := decodeResults(data)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		switch r.Kind {
		case resultError:
			carried = append(carried, r.Err)
		case resultDied:
			carried = append(carried, r.Died)
		default:
			carried = append(carried, nil)
		}
	}
	return carried, nil
}
