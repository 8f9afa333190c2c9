// Package input reads a post-renderer's whole standard input.
//
// pvc-guard may write nothing until the whole stream has been checked, so it
// holds all of it. Growing a heap buffer by doubling copies the stream
// several times and makes the kernel fault in fresh pages for each copy;
// with tens of megabytes (make bench) that costs more than the render.
// ReadAll therefore maps a regular file without copying, and reads a pipe
// into one large virtual reservation that the kernel backs page by page as
// it fills, so every byte is written to memory once.
package input

import (
	"bytes"
	"io"
)

// ReadAll reads r to EOF.
func ReadAll(r io.Reader) ([]byte, error) {
	if data, ok, err := readMapped(r); ok {
		return data, err
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}
