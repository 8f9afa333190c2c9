package yamltext

import (
	"bytes"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// parseBlockYAML parses the plain block YAML that Helm charts render (nested
// "key: value" mappings, "- item" sequences, plain and quoted one-line
// scalars, flow collections that close on their line, comment lines) into
// the node tree the YAML parser builds for it, line and column included,
// several times faster. It returns ok = false for anything outside that
// subset (JSON, anchors, tags, block scalars, multi-line scalars, escapes,
// tabs, CRLF, non-ASCII text, trailing comments, merge keys...), and the caller parses
// those with the real parser.
// Comments are not kept on the nodes: only re-encoding needs them, and
// re-encoding parses again (see Apply).
func parseBlockYAML(raw []byte) (doc *yaml.Node, ok bool) {
	p := blockParser{}
	if !p.splitLines(raw) || len(p.lines) == 0 {
		return nil, false
	}
	root, ok := p.node(p.lines[0].indent)
	if !ok || p.next != len(p.lines) {
		return nil, false
	}
	doc = &yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}}
	if p.marked {
		doc.Line, doc.Column = 1, 1 // the document starts at its "---"
	}
	return doc, true
}

// blockLine is one line that holds content: not blank, not a comment.
type blockLine struct {
	Number int    // 1-based
	indent int    // leading spaces
	text   []byte // after the indentation, without the line break
}

// maxSimpleKey is the YAML limit on the length of a key written without "? ".
const maxSimpleKey = 1024

type blockParser struct {
	lines  []blockLine
	next   int  // index of the first line not yet consumed
	marked bool // the first line is "---"
}

// splitLines keeps the content lines, refusing bytes and lines whose
// meaning depends on more than this parser knows.
func (p *blockParser) splitLines(raw []byte) bool {
	Number := 0
	for len(raw) > 0 {
		Number++
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		for _, c := range line {
			if c < ' ' || c >= 0x7f || c == '\\' {
				return false // tabs, CR, control and non-ASCII bytes, escapes
			}
		}
		text := bytes.TrimLeft(line, " ")
		indent := len(line) - len(text)
		switch {
		case len(text) == 0 || text[0] == '#':
			continue
		case Number == 1 && string(line) == "---":
			p.marked = true // the document start marker Helm writes
			continue
		case indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) || text[0] == '%'):
			return false // markers and directives
		}
		p.lines = append(p.lines, blockLine{Number: Number, indent: indent, text: text})
	}
	return true
}

// node parses the mapping or sequence whose lines start at column indent.
func (p *blockParser) node(indent int) (*yaml.Node, bool) {
	line := p.lines[p.next]
	if line.indent != indent {
		return nil, false
	}
	if isItem(line.text) {
		return p.sequence(indent)
	}
	return p.mapping(indent, 0)
}

// mapping parses entries at column indent. The first entry may sit after a
// sequence item's "- " (at offset skip into its line).
func (p *blockParser) mapping(indent, skip int) (*yaml.Node, bool) {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for p.next < len(p.lines) {
		line := p.lines[p.next]
		text := line.text[skip:]
		if len(m.Content) > 0 {
			if line.indent < indent || (line.indent == indent && isItem(text)) {
				break
			}
			if line.indent > indent {
				return nil, false
			}
		}
		col := line.indent + skip
		skip = 0
		key, value, ok := p.entry(text, line.Number, col)
		if !ok {
			return nil, false
		}
		if len(m.Content) == 0 {
			m.Line, m.Column = key.Line, key.Column
		}
		m.Content = append(m.Content, key, value)
	}
	return m, true
}

// entry parses "key: value" or "key:" followed by a nested block, and
// consumes the lines it spans.
func (p *blockParser) entry(text []byte, Number, col int) (key, value *yaml.Node, ok bool) {
	colon := bytes.Index(text, []byte(": "))
	if colon < 0 && len(text) > 0 && text[len(text)-1] == ':' {
		colon = len(text) - 1
	}
	if colon <= 0 || colon > maxSimpleKey {
		return nil, nil, false
	}
	key, ok = plainScalar(text[:colon], Number, col)
	if !ok {
		return nil, nil, false
	}
	p.next++
	rest := bytes.TrimLeft(text[colon+1:], " ")
	if len(rest) > 0 {
		value, ok = p.scalar(rest, Number, col+len(text)-len(rest), col)
		return key, value, ok
	}
	// A nested block: deeper, or a sequence at the key's own column.
	if p.next == len(p.lines) {
		return nil, nil, false // a null value
	}
	next := p.lines[p.next]
	if next.indent > col || (next.indent == col && isItem(next.text)) {
		value, ok = p.node(next.indent)
		return key, value, ok
	}
	return nil, nil, false
}

// sequence parses "- item" lines at column indent.
func (p *blockParser) sequence(indent int) (*yaml.Node, bool) {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.lines[p.next].Number, Column: indent + 1}
	for p.next < len(p.lines) {
		line := p.lines[p.next]
		if line.indent != indent || !isItem(line.text) {
			if line.indent > indent {
				return nil, false
			}
			break
		}
		if len(line.text) < 3 || line.text[2] == ' ' {
			return nil, false // "-" alone, or extra spaces after the dash
		}
		item, ok := p.item(line, indent)
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, item)
	}
	return seq, true
}

// item parses what follows "- ": a compact mapping, a one-line flow
// collection or a scalar.
func (p *blockParser) item(line blockLine, indent int) (*yaml.Node, bool) {
	text := line.text[2:]
	if (bytes.Contains(text, []byte(": ")) || text[len(text)-1] == ':') && !isFlowStart(text[0]) {
		if text[0] == '\'' || text[0] == '"' {
			return nil, false // a quoted string with ": " or a quoted key
		}
		return p.mapping(indent+2, 2)
	}
	p.next++
	return p.scalar(text, line.Number, indent+2, indent)
}

// scalar parses a one-line value at column col of a line whose entry
// starts at column owner: a scalar, or a flow collection that closes on
// the line. A deeper line after it would continue the value, so it is
// refused.
func (p *blockParser) scalar(text []byte, Number, col, owner int) (*yaml.Node, bool) {
	if p.next < len(p.lines) && p.lines[p.next].indent > owner {
		return nil, false
	}
	if isFlowStart(text[0]) {
		f := flowReader{text: text, line: Number, col: col}
		n, ok := f.node()
		f.spaces()
		return n, ok && f.pos == len(text)
	}
	switch text[0] {
	case '\'':
		return quotedScalar(text, '\'', yaml.SingleQuotedStyle, Number, col)
	case '"':
		return quotedScalar(text, '"', yaml.DoubleQuotedStyle, Number, col)
	}
	return plainScalar(text, Number, col)
}

// plainScalar accepts a plain scalar that cannot mean anything else: no
// indicator first, no ": " or " #" inside, no trailing blank or colon, not
// the merge key "<<" (which the YAML parser tags itself, and which is
// resolved after it).
func plainScalar(text []byte, Number, col int) (*yaml.Node, bool) {
	if len(text) == 0 || bytes.IndexByte([]byte("-?:,[]{}#&*!|>'\"%@`"), text[0]) >= 0 || string(text) == "<<" ||
		bytes.Contains(text, []byte(": ")) || bytes.Contains(text, []byte(" #")) ||
		text[len(text)-1] == ' ' || text[len(text)-1] == ':' {
		return nil, false
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(text), Line: Number, Column: col + 1}
	if mayResolve(text[0]) {
		n.Tag = "" // let the YAML library resolve it by its own rules
		n.Tag = n.ShortTag()
	}
	return n, true
}

// mayResolve reports whether a plain scalar starting with c can be anything
// but a string: true/false/null in any case, ~, numbers, .inf/.nan. Every
// other first byte makes a string.
func mayResolve(c byte) bool {
	return bytes.IndexByte([]byte("tTfFnN~.+-0123456789"), c) >= 0
}

// quotedScalar accepts a quoted scalar that ends its line.
func quotedScalar(text []byte, quote byte, style yaml.Style, Number, col int) (*yaml.Node, bool) {
	if len(text) < 2 || text[len(text)-1] != quote {
		return nil, false
	}
	body := text[1 : len(text)-1]
	if quote == '\'' {
		// Inside single quotes a quote is only ever written doubled.
		if bytes.IndexByte(bytes.ReplaceAll(body, []byte("''"), nil), '\'') >= 0 {
			return nil, false
		}
		body = bytes.ReplaceAll(body, []byte("''"), []byte("'"))
	} else if bytes.IndexByte(body, '"') >= 0 {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Style: style, Tag: "!!str", Value: string(body), Line: Number, Column: col + 1}, true
}

func isFlowStart(c byte) bool { return c == '{' || c == '[' }

// flowReader reads a flow collection ({a: b, c: [d, e]}) within one line:
// plain keys, plain or quoted scalars, nested collections.
type flowReader struct {
	text      []byte
	pos       int
	line, col int // position of text[0]
}

func (f *flowReader) node() (*yaml.Node, bool) {
	switch f.peek() {
	case '{':
		return f.collection(yaml.MappingNode, "!!map", '}')
	case '[':
		return f.collection(yaml.SequenceNode, "!!seq", ']')
	}
	return f.scalar()
}

func (f *flowReader) collection(kind yaml.Kind, tag string, end byte) (*yaml.Node, bool) {
	n := &yaml.Node{Kind: kind, Style: yaml.FlowStyle, Tag: tag, Line: f.line, Column: f.col + f.pos + 1}
	f.pos++
	f.spaces()
	if f.peek() == end {
		f.pos++
		return n, true
	}
	for {
		if kind == yaml.MappingNode {
			key, ok := f.scalar()
			if !ok || key.Style != 0 || !bytes.HasPrefix(f.text[f.pos:], []byte(": ")) {
				return nil, false
			}
			f.pos += 2
			f.spaces()
			n.Content = append(n.Content, key)
		}
		value, ok := f.node()
		if !ok {
			return nil, false
		}
		n.Content = append(n.Content, value)
		f.spaces()
		switch f.peek() {
		case ',':
			f.pos++
			f.spaces()
			if f.peek() == end {
				return nil, false // a trailing comma
			}
		case end:
			f.pos++
			return n, true
		default:
			return nil, false
		}
	}
}

// scalar reads a quoted scalar, or a plain one up to the next flow
// indicator; a colon or hash inside a plain scalar is refused.
func (f *flowReader) scalar() (*yaml.Node, bool) {
	start, end := f.pos, f.pos
	switch f.peek() {
	case '\'', '"':
		quote := f.peek()
		for end = start + 1; end < len(f.text); end++ {
			if f.text[end] != quote {
				continue
			}
			if quote == '\'' && end+1 < len(f.text) && f.text[end+1] == '\'' {
				end++ // a doubled quote
				continue
			}
			break
		}
		if end == len(f.text) {
			return nil, false
		}
		f.pos = end + 1
		style := yaml.DoubleQuotedStyle
		if quote == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return quotedScalar(f.text[start:f.pos], quote, style, f.line, f.col+start)
	}
	for end < len(f.text) && bytes.IndexByte([]byte(",[]{}:#"), f.text[end]) < 0 {
		end++
	}
	plain := bytes.TrimRight(f.text[start:end], " ")
	f.pos = start + len(plain)
	return plainScalar(plain, f.line, f.col+start)
}

func (f *flowReader) peek() byte {
	if f.pos < len(f.text) {
		return f.text[f.pos]
	}
	return 0
}

func (f *flowReader) spaces() {
	for f.peek() == ' ' {
		f.pos++
	}
}

func isItem(text []byte) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}
