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

// ReadAll reads r to EOF. A non-nil watch hears as soon as the stream is
// known to be large, while the rest still streams in.
func ReadAll(r io.Reader, watch *Watch) ([]byte, error) {
	if data, ok, err := readMapped(r, watch); ok {
		return data, err
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r)
	watch.saw(buf.Len())
	return buf.Bytes(), err
}

// Watch calls Large once, the first time the stream reaches Size bytes: at
// once for a regular file that large, after that many bytes of a pipe.
// Large runs on the reading goroutine and must return quickly.
type Watch struct {
	Size   int
	Large  func()
	called bool
}

func (w *Watch) saw(n int) {
	if w != nil && !w.called && n >= w.Size {
		w.called = true
		w.Large()
	}
}
