package yamltext

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
)

// Document is one chunk of the input stream: from the start of its "---"
// separator line (or the start of the stream) to the start of the next
// separator. Concatenating every chunk gives back the input exactly, which is
// how untouched documents pass through byte for byte.
type Document struct {
	Index  int // position in the stream, 0-based
	Offset int // byte offset of Raw in the stream
	Raw    []byte
}

// Documents yields the documents of a stream in order, cut at every line
// that starts with "---" followed by a line break, a blank or the end of the
// input: the separators Helm itself splits manifests on. Nothing is copied.
func Documents(in []byte) iter.Seq[Document] {
	return func(yield func(Document) bool) {
		start, index := 0, 0
		for sep := range eachSeparator(in) {
			if sep > start {
				if !yield(Document{Index: index, Offset: start, Raw: in[start:sep]}) {
					return
				}
				index++
			}
			start = sep
		}
		if start < len(in) {
			yield(Document{Index: index, Offset: start, Raw: in[start:]})
		}
	}
}

// eachSeparator yields the offsets of the separator lines in order. It
// searches for "---" rather than for line breaks: dashes are rarer than
// lines, so the search runs in long vectorised strides.
func eachSeparator(in []byte) iter.Seq[int] {
	return func(yield func(int) bool) {
		for pos := 0; ; {
			i := bytes.Index(in[pos:], []byte("---"))
			if i < 0 {
				return
			}
			at := pos + i
			if (at == 0 || in[at-1] == '\n') && IsSeparatorAt(in, at) && !yield(at) {
				return
			}
			pos = at + 1
		}
	}
}

// Parts cuts a stream into at most n parts of about equal size, each but
// the first starting at a separator line, and returns their offsets: the
// documents of the parts, in order, are the documents of the stream, so a
// scan of a large stream can run on every CPU.
func Parts(in []byte, n int) []int {
	starts := []int{0}
	for k := 1; k < n; k++ {
		at := nextSeparator(in, max(len(in)*k/n, starts[len(starts)-1]+1))
		if at < 0 {
			break
		}
		if at > starts[len(starts)-1] {
			starts = append(starts, at)
		}
	}
	return starts
}

// nextSeparator returns the offset of the first separator line that starts
// at or after from, or -1.
func nextSeparator(in []byte, from int) int {
	for pos := from - 1; pos < len(in); {
		i := bytes.Index(in[max(pos, 0):], []byte("\n---"))
		if i < 0 {
			return -1
		}
		at := max(pos, 0) + i + 1
		if at >= from && IsSeparatorAt(in, at) {
			return at
		}
		pos = at
	}
	return -1
}

func IsSeparatorAt(in []byte, at int) bool {
	if !bytes.HasPrefix(in[at:], []byte("---")) {
		return false
	}
	if at+3 == len(in) {
		return true
	}
	switch in[at+3] {
	case '\n', '\r', ' ', '\t':
		return true
	}
	return false
}

// SourceOf returns the template file Helm names in a "# Source: " comment
// at the start of a line.
func SourceOf(raw []byte) string {
	const marker = "# Source: "
	for pos := 0; ; {
		i := bytes.Index(raw[pos:], []byte(marker))
		if i < 0 {
			return ""
		}
		at := pos + i
		if at == 0 || raw[at-1] == '\n' {
			line := raw[at+len(marker):]
			if end := bytes.IndexByte(line, '\n'); end >= 0 {
				line = line[:end]
			}
			return string(bytes.TrimSpace(line))
		}
		pos = at + len(marker)
	}
}

// LineOf returns the 1-based line number of a byte offset in the stream.
func LineOf(in []byte, offset int) int {
	return bytes.Count(in[:offset], []byte("\n")) + 1
}

// DecodeObjects decodes every document of a YAML or JSON stream to plain Go
// values, as the YAML library decodes into an interface, so that callers
// reading live state share the renderer's fast path: documents are decoded
// in parallel, plain block YAML with the fast parser. A document without
// content decodes to nil. An error names the document, counted from 0.
func DecodeObjects(stream []byte) ([]any, error) {
	docs := slices.Collect(Documents(stream))
	objects := make([]any, len(docs))
	errs := make([]error, len(docs))
	Parallel(len(docs), func(i int) {
		objects[i], errs[i] = decodeDocument(docs[i].Raw)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("Document %d: %w", i, err)
		}
	}
	return objects, nil
}

func decodeDocument(raw []byte) (any, error) {
	doc, err := Parse(raw)
	if err != nil || len(doc.Node.Content) == 0 {
		return nil, err
	}
	return Decode(doc.Node.Content[0])
}
