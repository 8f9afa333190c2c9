//go:build unix && !linux

package input

// adviseHugePages has nothing to ask for outside Linux.
func adviseHugePages([]byte) {}
