package renderer

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fieldEdit sets one field of one object in a document to a value, or
// removes it.
type fieldEdit struct {
	item   int // index in a List's items, or -1 for the document's own object
	path   Path
	value  any
	remove bool
}

// errNeedsReencode tells applyEdits that a text splice is not safe here (a
// flow-style mapping such as a JSON document, a key that does not start its
// line, or two edits touching the same lines) and the document must be
// re-encoded instead.
var errNeedsReencode = errors.New("document layout needs re-encoding")

// applyEdits rewrites a document so it differs from raw only in the edited
// fields, then adds one comment line per note below the document's leading
// comments. Block-style YAML (what Helm renders) is edited as text, so
// quoting, comments, key order and blank lines elsewhere survive; other
// layouts fall back to re-encoding the document. doc is raw parsed; a
// splice of a plain document needs no reading back (see
// FuzzSplicePlainDocuments).
func applyEdits(raw []byte, doc parsedDocument, edits []fieldEdit, notes []string) ([]byte, error) {
	if doc.resolved {
		text, err := encodeEdited(raw, doc.node, edits)
		if err != nil {
			return nil, err
		}
		return insertNotes(text, notes), nil
	}
	text, err := spliceEdits(raw, doc.node, edits)
	if err == nil && !doc.plain && !meansEdited(text, doc.node, edits) {
		err = errNeedsReencode
	}
	if errors.Is(err, errNeedsReencode) {
		text, err = reencode(raw, edits)
	}
	if err != nil {
		return nil, err
	}
	return insertNotes(text, notes), nil
}

// meansEdited reads a spliced document back and reports whether it holds
// exactly the original values with the edits applied. Text splicing trusts
// indentation, which is exact for plain block YAML; any other layout it
// misjudges (a multi-line quoted scalar, say) must never reach the cluster,
// so such a document is re-encoded instead.
func meansEdited(text []byte, doc *yaml.Node, edits []fieldEdit) bool {
	want, err := decodeNode(objectNode(doc, -1))
	if err != nil {
		return false
	}
	for _, edit := range edits {
		if want, err = applyToValue(want, edit); err != nil {
			return false
		}
	}
	spliced, err := parseDocument(text)
	if err != nil || len(spliced.node.Content) == 0 {
		return false
	}
	got, err := decodeNode(spliced.node.Content[0])
	if err != nil {
		return false
	}
	return sameValue(got, want)
}

// applyToValue applies an edit to a document decoded to plain values.
func applyToValue(root any, edit fieldEdit) (any, error) {
	if edit.item < 0 {
		return valueWithEdit(root, edit.path, edit)
	}
	items, _ := valueAt(root, []string{"items"}).([]any)
	if edit.item >= len(items) {
		return nil, fmt.Errorf("object %d is gone from the document", edit.item)
	}
	obj, err := valueWithEdit(items[edit.item], edit.path, edit)
	items[edit.item] = obj
	return root, err
}

// valueWithEdit returns v with the edit applied at path, creating mappings
// on the way; an edit that removes what is not there changes nothing.
func valueWithEdit(v any, path Path, edit fieldEdit) (any, error) {
	step, last := path[0], len(path) == 1
	if step.IsList() {
		items, ok := v.([]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("%s is not a list", Path{step})
		}
		i := slices.IndexFunc(items, step.matches)
		switch {
		case last && edit.remove && i >= 0:
			return slices.Delete(items, i, i+1), nil
		case last && edit.remove, !last && i < 0 && edit.remove:
			return v, nil
		case last && i >= 0:
			items[i] = edit.value
			return items, nil
		case last:
			return append(items, edit.value), nil
		case i < 0:
			return nil, fmt.Errorf("no list item %s to edit", Path{step})
		}
		child, err := valueWithEdit(items[i], path[1:], edit)
		items[i] = child
		return items, err
	}
	m, ok := v.(map[string]any)
	switch {
	case v == nil && edit.remove:
		return nil, nil
	case v == nil:
		m = map[string]any{}
	case !ok:
		return nil, fmt.Errorf("%s is not a mapping", step.Key)
	}
	if last {
		if edit.remove {
			delete(m, step.Key)
		} else {
			m[step.Key] = edit.value
		}
		return m, nil
	}
	child, err := valueWithEdit(m[step.Key], path[1:], edit)
	if child != nil {
		m[step.Key] = child
	}
	return m, err
}

// parsedDocument is a document's node tree, and whether the fast parser
// read it (plain block YAML, whose text a splice edits exactly) or its
// aliases and merge keys were resolved (and then its text cannot be edited
// in place: the tree no longer follows it).
type parsedDocument struct {
	node     *yaml.Node
	plain    bool
	resolved bool
}

// parseDocument parses one chunk of the stream; the chunk must hold exactly
// one YAML document. Plain block YAML, what charts render, takes the fast
// parser; everything else the YAML library, and a document with aliases or
// merge keys is resolved as Helm reads it (resolveAliases).
func parseDocument(raw []byte) (parsedDocument, error) {
	if node, ok := parseBlockYAML(raw); ok {
		return parsedDocument{node: node, plain: true}, nil
	}
	node, err := parseWithLibrary(raw)
	if err != nil || !usesAliases(node) {
		return parsedDocument{node: node}, err
	}
	if node, err = resolveAliases(node); err != nil {
		return parsedDocument{}, fmt.Errorf("resolving anchors: %w", err)
	}
	return parsedDocument{node: node, resolved: true}, nil
}

// parseWithLibrary parses with the YAML library, comments included.
func parseWithLibrary(raw []byte) (*yaml.Node, error) {
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
func spliceEdits(text []byte, doc *yaml.Node, edits []fieldEdit) ([]byte, error) {
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
func (s *splicer) plan(doc *yaml.Node, edit fieldEdit) (sp splice, ok bool, err error) {
	m := objectNode(doc, edit.item)
	if m == nil {
		return splice{}, false, fmt.Errorf("object %d is gone from the document", edit.item)
	}
	for depth, step := range edit.path {
		last := depth == len(edit.path)-1
		if step.IsList() {
			if m = step.childNode(m); m == nil || last {
				return splice{}, false, errNeedsReencode
			}
			continue
		}
		if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
			return splice{}, false, errNeedsReencode
		}
		key, rest := step.Key, edit.path[depth+1:]
		child := mappingValue(m, key)
		switch {
		case child == nil && edit.remove:
			return splice{}, false, nil
		case child == nil:
			sp, err := s.insertEntry(m, key, nested(rest, edit.value))
			return sp, err == nil, err
		case last && edit.remove:
			sp, err := s.replaceEntry(m, key, nil)
			return sp, err == nil, err
		case !last && rest[0].IsList():
			if child.Kind != yaml.SequenceNode || child.Style&yaml.FlowStyle != 0 {
				return splice{}, false, errNeedsReencode
			}
		case last || child.Kind != yaml.MappingNode || child.Style&yaml.FlowStyle != 0 || len(child.Content) == 0:
			value := nested(rest, edit.value)
			sp, err := s.replaceEntry(m, key, &value)
			return sp, err == nil, err
		}
		m = child
	}
	return splice{}, false, fmt.Errorf("empty field path")
}

// nested wraps value along path: nested(a.b, v) = {a: {b: v}}, and a list
// step makes a list of one item named as the step says.
func nested(path Path, value any) any {
	for i := len(path) - 1; i >= 0; i-- {
		step := path[i]
		if !step.IsList() {
			value = map[string]any{step.Key: value}
			continue
		}
		item, _ := value.(map[string]any)
		if i < len(path)-1 || item == nil {
			// The item holds a field deeper down: it needs its name too.
			named, _ := valueWithEdit(item, keyPath(step.ItemKey), fieldEdit{value: step.Item})
			item, _ = named.(map[string]any)
		}
		value = []any{item}
	}
	return value
}

func keyPath(keys []string) Path {
	p := make(Path, len(keys))
	for i, k := range keys {
		p[i] = Step{Key: k}
	}
	return p
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

// valueNode builds the YAML node of a plain Go value (the shapes JSON and
// unstructured objects use). Building it directly is far cheaper than
// yaml.Node.Encode, which prints the value and parses it back.
func valueNode(key string, value any) (*yaml.Node, error) {
	scalar := func(tag, text string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text}
	}
	switch v := value.(type) {
	case nil:
		return scalar("!!null", "null"), nil
	case string:
		return scalar("!!str", v), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(v)), nil
	case int, int32, int64:
		return scalar("!!int", fmt.Sprint(v)), nil
	case float64:
		return scalar("!!float", strconv.FormatFloat(v, 'g', -1, 64)), nil
	case []any:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, item := range v {
			child, err := valueNode(key, item)
			if err != nil {
				return nil, err
			}
			seq.Content = append(seq.Content, child)
		}
		return seq, nil
	case map[string]any:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child, err := valueNode(key, v[k])
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar("!!str", k), child)
		}
		return m, nil
	}
	return nil, fmt.Errorf("encoding %s: unsupported value type %T", key, value)
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
	encoded, ok := scalarEntry(key, value)
	if !ok {
		entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: key}, value}}
		var err error
		if encoded, err = yaml.MarshalWithOptions(entry, &yaml.EncoderOptions{SeqIndent: s.seqStyle}); err != nil {
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

// scalarEntry writes "key: value" for the common case of a plain word
// (volume names, class names, sizes) without starting a YAML encoder, which
// costs more than the rest of a claim's rewrite. ok is false for anything
// that might need quoting; the encoder handles those.
func scalarEntry(key string, value *yaml.Node) (entry []byte, ok bool) {
	if value.Kind != yaml.ScalarNode || value.Tag != "!!str" || !isPlainWord(key) {
		return nil, false
	}
	switch {
	case value.Style == 0 && isPlainWord(value.Value):
		return []byte(key + ": " + value.Value + "\n"), true
	case value.Style == yaml.DoubleQuotedStyle && isPlainWord(value.Value):
		return []byte(key + ": \"" + value.Value + "\"\n"), true
	}
	return nil, false
}

// isPlainWord reports whether text reads back as the same string in plain
// style under YAML 1.1 and 1.2 alike (Helm's parser is 1.1): letters,
// digits and . _ / - only, starting with a letter or digit, and not a
// number, boolean or null in either version.
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
	_, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
	return err != nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// reencode applies the edits to the document and encodes it again. Only
// documents a text splice cannot handle (flow style, JSON) come here; they
// are parsed again with the YAML library so that comments survive, and
// their leading separator line is kept as it was.
func reencode(text []byte, edits []fieldEdit) ([]byte, error) {
	doc, err := parseWithLibrary(text)
	if err != nil {
		return nil, err
	}
	return encodeEdited(text, doc, edits)
}

// encodeEdited applies the edits to doc, the node tree of text, and encodes
// it, keeping text's leading separator line and sequence style.
func encodeEdited(text []byte, doc *yaml.Node, edits []fieldEdit) ([]byte, error) {
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
func setNode(n *yaml.Node, edit fieldEdit) error {
	for depth, step := range edit.path {
		last, rest := depth == len(edit.path)-1, edit.path[depth+1:]
		if step.IsList() {
			if n.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s is not a list", edit.path[:depth])
			}
			i := slices.IndexFunc(n.Content, step.matchesNode)
			switch {
			case i < 0 && edit.remove:
				return nil
			case last && edit.remove:
				n.Content = slices.Delete(n.Content, i, i+1)
				return nil
			case last:
				value, err := valueNode(edit.path.String(), edit.value)
				if err != nil {
					return err
				}
				matchFlowStyle(n, value)
				if i < 0 {
					n.Content = append(n.Content, value)
				} else {
					n.Content[i] = value
				}
				return nil
			case i < 0:
				return fmt.Errorf("%s has no such item", edit.path[:depth+1])
			}
			n = n.Content[i]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", edit.path[:depth])
		}
		i := keyIndex(n, step.Key)
		switch {
		case last && edit.remove:
			if i >= 0 {
				n.Content = append(n.Content[:i], n.Content[i+2:]...)
			}
			return nil
		case i < 0 && edit.remove:
			return nil
		case last || i < 0 || n.Content[i+1].Kind != childKind(rest[0]):
			value, err := valueNode(edit.path.String(), nested(rest, edit.value))
			if err != nil {
				return err
			}
			keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: step.Key}
			matchFlowStyle(n, keyNode, value)
			if i < 0 {
				n.Content = append(n.Content, keyNode, value)
			} else {
				n.Content[i+1] = value
			}
			return nil
		}
		n = n.Content[i+1]
	}
	return nil
}

// childKind is the node a step steps into: a list or a mapping.
func childKind(s Step) yaml.Kind {
	if s.IsList() {
		return yaml.SequenceNode
	}
	return yaml.MappingNode
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
	from := s.lineStart[at-1]
	var out bytes.Buffer
	out.Grow(len(text) + block.Len() + len(s.eol))
	out.Write(text[:from])
	s.writeAt(&out, from, block.Bytes())
	out.Write(text[from:])
	return out.Bytes()
}
