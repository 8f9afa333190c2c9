package renderer

import (
	"bytes"
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

// splitDocuments cuts a stream at every line that starts with "---" followed
// by a line break, a blank or the end of the input: the separators Helm itself
// splits manifests on.
func splitDocuments(in []byte) []document {
	separators := separatorOffsets(in)
	docs := make([]document, 0, len(separators)+1)
	start := 0
	for _, sep := range separators {
		if sep > start {
			docs = append(docs, document{index: len(docs), offset: start, raw: in[start:sep]})
		}
		start = sep
	}
	if start < len(in) {
		docs = append(docs, document{index: len(docs), offset: start, raw: in[start:]})
	}
	return docs
}

// separatorOffsets returns the offsets of the separator lines in order.
func separatorOffsets(in []byte) []int {
	var offsets []int
	if isSeparatorAt(in, 0) {
		offsets = append(offsets, 0)
	}
	for pos := 0; ; {
		i := bytes.Index(in[pos:], []byte("\n---"))
		if i < 0 {
			return offsets
		}
		lineStart := pos + i + 1
		if isSeparatorAt(in, lineStart) {
			offsets = append(offsets, lineStart)
		}
		pos = lineStart
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

// claimKind is the text every PersistentVolumeClaim document must contain.
var claimKind = []byte("PersistentVolumeClaim")

// mayHoldClaim is the cheap scan that lets most documents skip parsing. A
// claim's kind is written out in any plain, quoted, flow or JSON form, in a
// List item and behind an anchor alike; only an escape sequence in a
// double-quoted scalar ("\x50ersistent...") can hide it, so any backslash
// sends the document to the parser too. It must never return false for a
// document that holds a claim.
func mayHoldClaim(raw []byte) bool {
	return bytes.Contains(raw, claimKind) || bytes.IndexByte(raw, '\\') >= 0
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
