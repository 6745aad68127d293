package proc

// selfExe returns the path that runs this binary again. On Linux,
// /proc/self/exe names the very file this process runs, even if the path
// it was started from now names another file or none: a child is always
// the same program as its parent. This is a fact of Linux, not one of the
// mechanisms that the mpportable tag swaps, so it holds on both sets.
func selfExe() (string, error) { return "/proc/self/exe", nil }
