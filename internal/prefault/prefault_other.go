//go:build !linux

package prefault

func populateBlock([]byte) bool { return false }
