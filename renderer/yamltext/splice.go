package yamltext

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// splice replaces lines first..last (1-based, inclusive) of a document with
// text; an insertion has last = first-1.
type splice struct {
	first, last int
	col         int // indentation of the edited mapping
	order       int // position of the edit in the rule order
	text        []byte
	inserted    insertion // for an insertion: where and what
}

// insertion names a key added to a mapping.
type insertion struct {
	mapping *yaml.Node
	key     string
}

func (sp splice) isInsert() bool { return sp.last < sp.first }

// spliceEdits plans every edit against the one parse of the document and
// applies them in a single pass.
func spliceEdits(text []byte, doc *yaml.Node, edits []Edit) ([]byte, error) {
	if bytes.Count(text, []byte("\r")) != bytes.Count(text, []byte("\r\n")) {
		return nil, errNeedsReencode // a lone CR breaks lines for YAML, not for the splicer
	}
	s := newSplicer(text)
	var planned []splice
	inserted := map[insertion]bool{}
	for i, edit := range edits {
		sp, ok, err := s.plan(doc, edit)
		if err != nil {
			return nil, err
		}
		if ok && sp.isInsert() {
			// Two fields under a missing parent (spec.volumeName and
			// spec.storageClassName without spec) would add it twice.
			if inserted[sp.inserted] {
				return nil, errNeedsReencode
			}
			inserted[sp.inserted] = true
		}
		if ok {
			sp.order = i
			planned = append(planned, sp)
		}
	}
	// At one position, insertions go before a replaced entry, and deeper
	// mappings' entries before shallower ones: the shallower entry closes
	// the deeper block.
	sort.SliceStable(planned, func(i, j int) bool {
		a, b := planned[i], planned[j]
		if a.first != b.first {
			return a.first < b.first
		}
		if a.isInsert() != b.isInsert() {
			return a.isInsert()
		}
		if a.col != b.col {
			return a.col > b.col
		}
		return a.order < b.order
	})
	return s.apply(planned)
}

// plan locates one edit in the parsed document; ok is false when the edit
// changes nothing (removing an absent field). Edits that add or remove a
// list item, or replace one whole, are left to re-encoding.
func (s *splicer) plan(doc *yaml.Node, edit Edit) (sp splice, ok bool, err error) {
	m := objectNode(doc, edit.Item)
	if m == nil {
		return splice{}, false, fmt.Errorf("object %d is gone from the Document", edit.Item)
	}
	for depth, step := range edit.Path {
		last := depth == len(edit.Path)-1
		if step.IsList() {
			if m = step.childNode(m); m == nil || last {
				return splice{}, false, errNeedsReencode
			}
			continue
		}
		if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
			return splice{}, false, errNeedsReencode
		}
		key, rest := step.Key, edit.Path[depth+1:]
		child := MappingValue(m, key)
		switch {
		case child == nil && edit.Remove:
			return splice{}, false, nil
		case child == nil:
			sp, err := s.insertEntry(m, key, nested(rest, edit.Value))
			return sp, err == nil, err
		case last && edit.Remove:
			sp, err := s.replaceEntry(m, key, nil)
			return sp, err == nil, err
		case !last && rest[0].IsList():
			if child.Kind != yaml.SequenceNode || child.Style&yaml.FlowStyle != 0 {
				return splice{}, false, errNeedsReencode
			}
		case last || child.Kind != yaml.MappingNode || child.Style&yaml.FlowStyle != 0 || len(child.Content) == 0:
			value := nested(rest, edit.Value)
			sp, err := s.replaceEntry(m, key, &value)
			return sp, err == nil, err
		}
		m = child
	}
	return splice{}, false, fmt.Errorf("empty field path")
}

// splicer edits a document's text line by line.
type splicer struct {
	text      []byte
	lineStart []int // byte offset of each line; lineStart[len] = len(text)
	eol       string
}

func newSplicer(text []byte) *splicer {
	s := &splicer{text: text, eol: "\n", lineStart: make([]int, 1, bytes.Count(text, []byte("\n"))+2)}
	for i, c := range text {
		if c == '\n' && i+1 < len(text) {
			s.lineStart = append(s.lineStart, i+1)
		}
	}
	s.lineStart = append(s.lineStart, len(text))
	if bytes.Contains(text, []byte("\r\n")) {
		s.eol = "\r\n"
	}
	return s
}

// line returns line n (1-based) without its line break.
func (s *splicer) line(n int) []byte {
	return bytes.TrimRight(s.text[s.lineStart[n-1]:s.lineStart[n]], "\r\n")
}

func (s *splicer) lines() int { return len(s.lineStart) - 1 }

// entryEnd returns the last line of the mapping entry whose key starts at
// line keyLine, column col (0-based): the following lines that are indented
// deeper, or are compact sequence items at the same column, belong to it.
// Trailing blank and comment lines are left to whatever follows.
func (s *splicer) entryEnd(keyLine, col int) int {
	end := keyLine
	for n := keyLine + 1; n <= s.lines(); n++ {
		line := s.line(n)
		content := bytes.TrimLeft(line, " ")
		indent := len(line) - len(content)
		switch {
		case len(content) == 0 || content[0] == '#':
			continue // comments and blank lines do not end a YAML block
		case indent > col, indent == col && (bytes.HasPrefix(content, []byte("- ")) || bytes.Equal(content, []byte("-"))):
			end = n
			continue
		}
		break
	}
	return end
}

// replaceEntry plans replacing the entry of key in mapping m with
// key: value, or removing it when value is nil.
func (s *splicer) replaceEntry(m *yaml.Node, key string, value *any) (splice, error) {
	i := keyIndex(m, key)
	keyNode, oldValue := m.Content[i], m.Content[i+1]
	col := keyNode.Column - 1
	if prefix := s.line(keyNode.Line); col > len(prefix) || len(bytes.TrimLeft(prefix[:col], " ")) > 0 {
		return splice{}, errNeedsReencode
	}
	sp := splice{first: keyNode.Line, last: s.entryEnd(keyNode.Line, col), col: col}
	if value == nil {
		return sp, nil
	}
	node, err := valueNode(key, *value)
	if err != nil {
		return splice{}, err
	}
	keepQuoting(node, oldValue)
	sp.text, err = s.renderEntry(key, node, col)
	return sp, err
}

// insertEntry plans adding key: value after the last entry of mapping m.
func (s *splicer) insertEntry(m *yaml.Node, key string, value any) (splice, error) {
	col := m.Content[0].Column - 1
	lastKey := m.Content[len(m.Content)-2]
	node, err := valueNode(key, value)
	if err != nil {
		return splice{}, err
	}
	after := s.entryEnd(lastKey.Line, lastKey.Column-1)
	sp := splice{first: after + 1, last: after, col: col, inserted: insertion{m, key}}
	sp.text, err = s.renderEntry(key, node, col)
	return sp, err
}

// apply writes the text with the sorted splices in one forward pass. Two
// splices that touch the same lines cannot both be honoured as text.
func (s *splicer) apply(splices []splice) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(s.text) + 256*len(splices))
	cursor := 0
	for _, sp := range splices {
		from, to := s.lineStart[sp.first-1], s.lineStart[sp.last]
		if from < cursor {
			return nil, errNeedsReencode
		}
		out.Write(s.text[cursor:from])
		s.writeAt(&out, from, sp.text)
		cursor = max(to, from)
	}
	out.Write(s.text[cursor:])
	return out.Bytes(), nil
}

// writeAt writes inserted text that lands at byte offset at of the text,
// adding the line break a last line without one lacks.
func (s *splicer) writeAt(out *bytes.Buffer, at int, text []byte) {
	if written := out.Bytes(); at == len(s.text) && len(written) > 0 && written[len(written)-1] != '\n' {
		out.WriteString(s.eol)
	}
	out.Write(text)
}

// keepQuoting gives a replacement string the quoting of the value it
// replaces, so storage: "1Gi" becomes storage: "2Gi", not storage: 2Gi.
func keepQuoting(replacement, old *yaml.Node) {
	quoted := yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
	if replacement.Kind == yaml.ScalarNode && replacement.Tag == "!!str" && old.Kind == yaml.ScalarNode {
		replacement.Style |= old.Style & quoted
	}
}

// renderEntry encodes key: value as block YAML indented by col spaces, in the
// Document's sequence style and line endings.
func (s *splicer) renderEntry(key string, value *yaml.Node, col int) ([]byte, error) {
	encoded, ok := plainEntry(key, value)
	if !ok {
		entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: key}, value}}
		style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(s.text)))
		var err error
		if encoded, err = yaml.MarshalWithOptions(entry, &yaml.EncoderOptions{SeqIndent: style}); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", key, err)
		}
	}
	indent := bytes.Repeat([]byte(" "), col)
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(encoded, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		out.Write(indent)
		out.Write(bytes.TrimSuffix(line, []byte("\n")))
		out.WriteString(s.eol)
	}
	return out.Bytes(), nil
}

// plainEntry writes "key: value" for the common cases, a plain word
// (volume names, class names, sizes) or mappings of them (labels), without
// starting a YAML encoder, which costs more than the rest of a rewrite; its
// output is the encoder's (TestPlainEntryIsTheEncoders). ok is false for
// anything that might need quoting, and for sequences, whose indentation
// follows the document; the encoder handles those.
func plainEntry(key string, value *yaml.Node) (entry []byte, ok bool) {
	if !isPlainWord(key) {
		return nil, false
	}
	switch {
	case value.Kind == yaml.MappingNode && len(value.Content) > 0:
		out := []byte(key + ":\n")
		for i := 0; i+1 < len(value.Content); i += 2 {
			k := value.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				return nil, false
			}
			child, ok := plainEntry(k.Value, value.Content[i+1])
			if !ok {
				return nil, false
			}
			for line := range bytes.Lines(child) {
				out = append(append(out, "  "...), line...)
			}
		}
		return out, true
	case value.Kind != yaml.ScalarNode || value.Tag != "!!str" || !isPlainWord(value.Value):
		return nil, false
	case value.Style == 0:
		return []byte(key + ": " + value.Value + "\n"), true
	case value.Style == yaml.DoubleQuotedStyle:
		return []byte(key + ": \"" + value.Value + "\"\n"), true
	}
	return nil, false
}

// isPlainWord reports whether text reads back as the same string in plain
// style under YAML 1.1 and 1.2 alike (Helm's parser is 1.1): letters,
// digits and . _ / - only, starting with a letter or digit, and not a
// Number, boolean or null in either version.
func isPlainWord(text string) bool {
	if text == "" || !isAlnum(text[0]) {
		return false
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; !isAlnum(c) && c != '.' && c != '_' && c != '/' && c != '-' {
			return false
		}
	}
	switch strings.ToLower(text) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	lower := strings.ToLower(text)
	if strings.HasPrefix(lower, "0x") || strings.HasPrefix(lower, "0o") || strings.HasPrefix(lower, "0b") {
		return false
	}
	if strings.Trim(lower, "0123456789._+-aefinptxy") != "" {
		return true // a byte no number has ("Gi", "/"): spares ParseFloat's error
	}
	_, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
	return err != nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
