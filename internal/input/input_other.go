//go:build !unix

package input

import "io"

// readMapped is unavailable without mmap; ReadAll reads normally.
func readMapped(io.Reader, *Watch) ([]byte, bool, error) { return nil, false, nil }
