package renderer

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
)

// document is one chunk of the input stream: from the start of its "---"
// separator line (or the start of the stream) to the start of the next
// separator. Concatenating every chunk gives back the input exactly, which is
// how untouched documents pass through byte for byte.
type document struct {
	index  int // position in the stream, 0-based
	offset int // byte offset of raw in the stream
	raw    []byte
}

// eachDocument yields the documents of a stream in order, cut at every line
// that starts with "---" followed by a line break, a blank or the end of the
// input: the separators Helm itself splits manifests on. Nothing is copied.
func eachDocument(in []byte) iter.Seq[document] {
	return func(yield func(document) bool) {
		start, index := 0, 0
		for sep := range eachSeparator(in) {
			if sep > start {
				if !yield(document{index: index, offset: start, raw: in[start:sep]}) {
					return
				}
				index++
			}
			start = sep
		}
		if start < len(in) {
			yield(document{index: index, offset: start, raw: in[start:]})
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
			if (at == 0 || in[at-1] == '\n') && isSeparatorAt(in, at) && !yield(at) {
				return
			}
			pos = at + 1
		}
	}
}

func isSeparatorAt(in []byte, at int) bool {
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

// sourceOf returns the template file Helm names in a "# Source: " comment
// at the start of a line.
func sourceOf(raw []byte) string {
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

// lineOf returns the 1-based line number of a byte offset in the stream.
func lineOf(in []byte, offset int) int {
	return bytes.Count(in[:offset], []byte("\n")) + 1
}

// DecodeObjects decodes every document of a YAML or JSON stream to plain Go
// values, as the YAML library decodes into an interface, so that callers
// reading live state share the renderer's fast path: documents are decoded
// in parallel, plain block YAML with the fast parser. A document without
// content decodes to nil. An error names the document, counted from 0.
func DecodeObjects(stream []byte) ([]any, error) {
	docs := slices.Collect(eachDocument(stream))
	objects := make([]any, len(docs))
	errs := make([]error, len(docs))
	parallel(len(docs), func(i int) {
		objects[i], errs[i] = decodeDocument(docs[i].raw)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	return objects, nil
}

func decodeDocument(raw []byte) (any, error) {
	doc, err := parseDocument(raw)
	if err != nil || len(doc.node.Content) == 0 {
		return nil, err
	}
	return decodeNode(doc.node.Content[0])
}
