package yamltext

import (
	"bytes"
)

// insertNotes adds a "# pvc-guard: ..." line per note after the separator
// line and the leading comments (Helm's "# Source:" line), so the notes sit
// at the top of the document where `helm get manifest` readers look.
func insertNotes(text []byte, notes []string) []byte {
	if len(notes) == 0 {
		return text
	}
	s := newSplicer(text)
	at := 1
	for ; at <= s.lines(); at++ {
		line := bytes.TrimSpace(s.line(at))
		isLeading := (at == 1 && IsSeparatorAt(line, 0)) || (len(line) > 0 && line[0] == '#')
		if !isLeading {
			break
		}
	}
	var block bytes.Buffer
	for _, note := range notes {
		block.WriteString("# pvc-guard: " + note + s.eol)
	}
	from := s.lineStart[at-1]
	var out bytes.Buffer
	out.Grow(len(text) + block.Len() + len(s.eol))
	out.Write(text[:from])
	s.writeAt(&out, from, block.Bytes())
	out.Write(text[from:])
	return out.Bytes()
}
