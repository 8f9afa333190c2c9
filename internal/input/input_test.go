package input

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The watch hears once of a stream past its size, and never of a smaller one.
func TestReadAllFromEveryKindOfInput(t *testing.T) {
	payload := []byte(strings.Repeat("apiVersion: v1\nkind: ConfigMap\n---\n", 50_000)) // ~1.6 MB
	tests := []struct {
		name   string
		reader func(t *testing.T, data []byte) io.Reader
	}{
		{"regular file", func(t *testing.T, data []byte) io.Reader {
			path := filepath.Join(t.TempDir(), "in.yaml")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
		{"pipe", func(t *testing.T, data []byte) io.Reader {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				w.Write(data)
				w.Close()
			}()
			t.Cleanup(func() { r.Close() })
			return r
		}},
		{"in-memory reader", func(_ *testing.T, data []byte) io.Reader { return bytes.NewReader(data) }},
	}
	for _, tt := range tests {
		for _, data := range [][]byte{payload, nil} {
			t.Run(tt.name, func(t *testing.T) {
				calls := 0
				watch := &Watch{Size: 1 << 20, Large: func() { calls++ }}
				got, err := ReadAll(tt.reader(t, data), watch)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("read %d bytes, want %d identical bytes", len(got), len(data))
				}
				if want := map[bool]int{true: 1, false: 0}[len(data) >= watch.Size]; calls != want {
					t.Errorf("the watch heard %d times of a %d-byte stream, want %d", calls, len(data), want)
				}
			})
		}
	}
}
