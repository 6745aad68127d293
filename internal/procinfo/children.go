package procinfo

// Children returns the pids of the live processes whose parent is pid.
func Children(pid int) ([]int, error) {
	pids, err := List()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, p := range pids {
		if info, err := Read(p); err == nil && info.Parent == pid && info.Alive() {
			out = append(out, p)
		}
	}
	return out, nil
}
