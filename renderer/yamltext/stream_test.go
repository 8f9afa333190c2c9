package yamltext

import (
	"bytes"
	"strings"
	"testing"
)

func TestEachDocument(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty input", "", nil},
		{"one Document without separator", "a: 1\n", []string{"a: 1\n"}},
		{"leading separator", "---\na: 1\n", []string{"---\na: 1\n"}},
		{"two documents", "---\na: 1\n---\nb: 2\n", []string{"---\na: 1\n", "---\nb: 2\n"}},
		{"text before the first separator", "# c\n---\na: 1\n", []string{"# c\n", "---\na: 1\n"}},
		{"separator with trailing blank and comment", "a: 1\n--- # next\nb: 2\n", []string{"a: 1\n", "--- # next\nb: 2\n"}},
		{"CRLF separator", "a: 1\r\n---\r\nb: 2\r\n", []string{"a: 1\r\n", "---\r\nb: 2\r\n"}},
		{"separator at end of input", "a: 1\n---", []string{"a: 1\n", "---"}},
		{"empty documents", "---\n---\n", []string{"---\n", "---\n"}},
		{"dashes inside a line are content", "a: ---\nb: x---\n", []string{"a: ---\nb: x---\n"}},
		{"four dashes are content", "a: |\n----\n", []string{"a: |\n----\n"}},
		{"indented dashes are content", "a: |\n  ---\n", []string{"a: |\n  ---\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for d := range Documents([]byte(tt.in)) {
				i := len(got)
				if d.Index != i {
					t.Errorf("Document %d has index %d", i, d.Index)
				}
				if string(d.Raw) != tt.in[d.Offset:d.Offset+len(d.Raw)] {
					t.Errorf("Document %d: offset %d does not point at its bytes", i, d.Offset)
				}
				got = append(got, string(d.Raw))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Document %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"---\n# Source: chart/templates/pvc.yaml\nkind: X\n", "chart/templates/pvc.yaml"},
		{"# Source: a.yaml\r\n", "a.yaml"},
		{"kind: X\n", ""},
		{"note: see # Source: inline\n# Source: real.yaml\n", "real.yaml"},
	}
	for _, tt := range tests {
		if got := SourceOf([]byte(tt.doc)); got != tt.want {
			t.Errorf("SourceOf(%q) = %q, want %q", tt.doc, got, tt.want)
		}
	}
}

// FuzzEachDocument: concatenating the documents always gives the input
// back, and every document but the first starts with a separator.
func FuzzEachDocument(f *testing.F) {
	for _, seed := range []string{"", "---\n", "a: 1\n---\nb: 2", "---\r\n---\n--- x\n----\n", "\n---\n\n---"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var joined bytes.Buffer
		i := 0
		for d := range Documents(in) {
			if d.Index != i {
				t.Fatalf("Document %d has index %d", i, d.Index)
			}
			if len(d.Raw) == 0 {
				t.Fatalf("Document %d is empty", i)
			}
			if i > 0 && !IsSeparatorAt(d.Raw, 0) {
				t.Fatalf("Document %d does not start with a separator: %q", i, d.Raw)
			}
			joined.Write(d.Raw)
			i++
		}
		if !bytes.Equal(joined.Bytes(), in) {
			t.Fatalf("split lost bytes: %q -> %q", in, joined.Bytes())
		}
		checkParts(t, in)
	})
}

// checkParts fails when the documents of a stream's parts, in order, are
// not the stream's documents.
func checkParts(t *testing.T, in []byte) {
	t.Helper()
	var whole []Document
	for d := range Documents(in) {
		whole = append(whole, d)
	}
	for n := 1; n <= 5; n++ {
		starts := Parts(in, n)
		var got []Document
		for i, start := range starts {
			end := len(in)
			if i+1 < len(starts) {
				end = starts[i+1]
			}
			for d := range Documents(in[start:end]) {
				d.Index, d.Offset = len(got), d.Offset+start
				got = append(got, d)
			}
		}
		if len(got) != len(whole) {
			t.Fatalf("%d parts %v of %q give %d documents, the stream %d", n, starts, in, len(got), len(whole))
		}
		for i := range got {
			if got[i].Offset != whole[i].Offset || !bytes.Equal(got[i].Raw, whole[i].Raw) {
				t.Fatalf("%d parts %v of %q: document %d differs", n, starts, in, i)
			}
		}
	}
}

func TestPartsCutAtSeparators(t *testing.T) {
	for _, in := range []string{"", "a: 1\n", "---\na: 1\n---\nb: 2\n---\nc: 3\n", "a: ---\n---x\n--- y\n----\n---\n", "\n---\n\n---", strings.Repeat("---\nk: v\n", 40)} {
		checkParts(t, []byte(in))
	}
	if starts := Parts([]byte(strings.Repeat("---\nk: v\n", 40)), 4); len(starts) != 4 {
		t.Errorf("40 documents in 4 parts start at %v", starts)
	}
}
