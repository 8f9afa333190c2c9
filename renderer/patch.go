package renderer

import (
	"bytes"
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fieldEdit sets one field of one object in a document to a value, or
// removes it.
type fieldEdit struct {
	item   int // index in a List's items, or -1 for the document's own object
	path   []string
	value  any
	remove bool
}

// errNeedsReencode tells applyEdits that a text splice is not safe here (a
// flow-style mapping such as a JSON document, or a key that does not start
// its line) and the document must be re-encoded instead.
var errNeedsReencode = errors.New("document layout needs re-encoding")

// applyEdits rewrites a document so it differs from raw only in the edited
// fields, then adds one comment line per note below the document's leading
// comments. Block-style YAML (what Helm renders) is edited as text, so
// quoting, comments, key order and blank lines elsewhere survive; other
// layouts fall back to re-encoding the document.
func applyEdits(raw []byte, edits []fieldEdit, notes []string) ([]byte, error) {
	text := raw
	for i, edit := range edits {
		next, err := spliceEdit(text, edit)
		if errors.Is(err, errNeedsReencode) {
			if text, err = reencode(text, edits[i:]); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, err
		}
		text = next
	}
	return insertNotes(text, notes), nil
}

// parseDocument parses one chunk of the stream; the chunk must hold exactly
// one YAML document.
func parseDocument(raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("found a second YAML document without a --- separator line")
	}
	return &doc, nil
}

// objectNode returns the mapping of the edited object: the document root or
// one of its List items.
func objectNode(doc *yaml.Node, item int) *yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if item < 0 {
		return root
	}
	items := mappingValue(root, "items")
	if items == nil || item >= len(items.Content) {
		return nil
	}
	return items.Content[item]
}

// spliceEdit applies one edit to the text of a block-style document.
func spliceEdit(text []byte, edit fieldEdit) ([]byte, error) {
	doc, err := parseDocument(text)
	if err != nil {
		return nil, err
	}
	m := objectNode(doc, edit.item)
	if m == nil {
		return nil, fmt.Errorf("object %d is gone from the document", edit.item)
	}
	s := newSplicer(text)
	for depth, key := range edit.path {
		if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
			return nil, errNeedsReencode
		}
		child := mappingValue(m, key)
		last := depth == len(edit.path)-1
		switch {
		case child == nil && edit.remove:
			return text, nil
		case child == nil:
			return s.insertEntry(m, key, nested(edit.path[depth+1:], edit.value))
		case last && edit.remove:
			return s.replaceEntry(m, key, nil)
		case last || child.Kind != yaml.MappingNode || child.Style&yaml.FlowStyle != 0 || len(child.Content) == 0:
			value := nested(edit.path[depth+1:], edit.value)
			return s.replaceEntry(m, key, &value)
		}
		m = child
	}
	return nil, fmt.Errorf("empty field path")
}

// nested wraps value in maps along path: nested([a b], v) = {a: {b: v}}.
func nested(path []string, value any) any {
	for i := len(path) - 1; i >= 0; i-- {
		value = map[string]any{path[i]: value}
	}
	return value
}

// splicer edits a document's text line by line.
type splicer struct {
	text      []byte
	lineStart []int // byte offset of each line; lineStart[len] = len(text)
	eol       string
	seqStyle  yaml.SequenceIndentStyle
}

func newSplicer(text []byte) *splicer {
	s := &splicer{text: text, eol: "\n", lineStart: []int{0}}
	for i, c := range text {
		if c == '\n' && i+1 < len(text) {
			s.lineStart = append(s.lineStart, i+1)
		}
	}
	s.lineStart = append(s.lineStart, len(text))
	if bytes.Contains(text, []byte("\r\n")) {
		s.eol = "\r\n"
	}
	s.seqStyle = yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(text)))
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
		case len(content) == 0 || (content[0] == '#' && indent > col):
			continue
		case indent > col, indent == col && (bytes.HasPrefix(content, []byte("- ")) || bytes.Equal(content, []byte("-"))):
			end = n
			continue
		}
		break
	}
	return end
}

// replaceEntry replaces the entry of key in mapping m with key: value, or
// removes it when value is nil.
func (s *splicer) replaceEntry(m *yaml.Node, key string, value *any) ([]byte, error) {
	keyNode := m.Content[keyIndex(m, key)]
	col := keyNode.Column - 1
	if prefix := s.line(keyNode.Line); col > len(prefix) || len(bytes.TrimLeft(prefix[:col], " ")) > 0 {
		return nil, errNeedsReencode
	}
	var replacement []byte
	if value != nil {
		node, err := valueNode(key, *value)
		if err != nil {
			return nil, err
		}
		keepQuoting(node, m.Content[keyIndex(m, key)+1])
		if replacement, err = s.renderEntry(key, node, col); err != nil {
			return nil, err
		}
	}
	return s.splice(keyNode.Line, s.entryEnd(keyNode.Line, col), replacement), nil
}

// insertEntry adds key: value after the last entry of mapping m.
func (s *splicer) insertEntry(m *yaml.Node, key string, value any) ([]byte, error) {
	col := m.Content[0].Column - 1
	lastKey := m.Content[len(m.Content)-2]
	node, err := valueNode(key, value)
	if err != nil {
		return nil, err
	}
	entry, err := s.renderEntry(key, node, col)
	if err != nil {
		return nil, err
	}
	after := s.entryEnd(lastKey.Line, lastKey.Column-1)
	return s.splice(after+1, after, entry), nil
}

// splice replaces lines first..last (1-based, inclusive; last = first-1
// inserts before first) with replacement, which ends with a line break.
func (s *splicer) splice(first, last int, replacement []byte) []byte {
	from, to := s.lineStart[first-1], s.lineStart[last]
	var out bytes.Buffer
	out.Grow(len(s.text) + len(replacement) + len(s.eol))
	out.Write(s.text[:from])
	if from == len(s.text) && from > 0 && s.text[from-1] != '\n' {
		out.WriteString(s.eol) // inserting after a last line that has no line break
	}
	out.Write(replacement)
	out.Write(s.text[to:])
	return out.Bytes()
}

// valueNode encodes a plain Go value as a YAML node.
func valueNode(key string, value any) (*yaml.Node, error) {
	node := &yaml.Node{}
	if err := node.Encode(value); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", key, err)
	}
	return node, nil
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
// document's sequence style and line endings.
func (s *splicer) renderEntry(key string, value *yaml.Node, col int) ([]byte, error) {
	entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: key}, value}}
	encoded, err := yaml.MarshalWithOptions(entry, &yaml.EncoderOptions{SeqIndent: s.seqStyle})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", key, err)
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

// reencode applies the remaining edits to the parsed document and encodes it
// again. Only documents a text splice cannot handle (flow style, JSON) come
// here; their leading separator line is kept as it was.
func reencode(text []byte, edits []fieldEdit) ([]byte, error) {
	doc, err := parseDocument(text)
	if err != nil {
		return nil, err
	}
	for _, edit := range edits {
		obj := objectNode(doc, edit.item)
		if obj == nil {
			return nil, fmt.Errorf("object %d is gone from the document", edit.item)
		}
		if err := setNode(obj, edit); err != nil {
			return nil, err
		}
	}
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(text)))
	body, err := yaml.MarshalWithOptions(doc, &yaml.EncoderOptions{SeqIndent: style})
	if err != nil {
		return nil, fmt.Errorf("encoding the rewritten document: %w", err)
	}
	var out bytes.Buffer
	if isSeparatorAt(text, 0) {
		end := bytes.IndexByte(text, '\n')
		if end < 0 {
			end = len(text) - 1
		}
		out.Write(text[:end+1])
	}
	out.Write(body)
	return out.Bytes(), nil
}

// setNode applies one edit to a node tree, creating mappings on the way.
func setNode(m *yaml.Node, edit fieldEdit) error {
	for depth, key := range edit.path {
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", fieldPath(edit.path[:depth]))
		}
		i := keyIndex(m, key)
		last := depth == len(edit.path)-1
		switch {
		case last && edit.remove:
			if i >= 0 {
				m.Content = append(m.Content[:i], m.Content[i+2:]...)
			}
			return nil
		case i < 0 && edit.remove:
			return nil
		case last || i < 0 || m.Content[i+1].Kind != yaml.MappingNode:
			value := &yaml.Node{}
			if err := value.Encode(nested(edit.path[depth+1:], edit.value)); err != nil {
				return fmt.Errorf("encoding %s: %w", fieldPath(edit.path), err)
			}
			keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
			matchFlowStyle(m, keyNode, value)
			if i < 0 {
				m.Content = append(m.Content, keyNode, value)
			} else {
				m.Content[i+1] = value
			}
			return nil
		}
		m = m.Content[i+1]
	}
	return nil
}

// matchFlowStyle makes nodes added to a flow mapping look like their
// neighbours: flow style, and in a JSON document double-quoted strings.
func matchFlowStyle(m *yaml.Node, added ...*yaml.Node) {
	if m.Style&yaml.FlowStyle == 0 {
		return
	}
	json := len(m.Content) > 0 && m.Content[0].Style&yaml.DoubleQuotedStyle != 0
	for _, root := range added {
		walkNodes(root, func(n *yaml.Node) {
			switch {
			case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
				n.Style |= yaml.FlowStyle
			case json && n.Kind == yaml.ScalarNode && n.Tag == "!!str":
				n.Style |= yaml.DoubleQuotedStyle
			}
		})
	}
}

func walkNodes(n *yaml.Node, visit func(*yaml.Node)) {
	visit(n)
	for _, child := range n.Content {
		walkNodes(child, visit)
	}
}

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
		isLeading := (at == 1 && isSeparatorAt(line, 0)) || (len(line) > 0 && line[0] == '#')
		if !isLeading {
			break
		}
	}
	var block bytes.Buffer
	for _, note := range notes {
		block.WriteString("# pvc-guard: " + note + s.eol)
	}
	return s.splice(at, at-1, block.Bytes())
}
