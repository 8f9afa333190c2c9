package yamltext

import (
	"strings"

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
//
// The document is read as one string whose substrings the scalars hold, and
// nodes come from blocks of many (arena): a node or string allocated one by
// one costs more than parsing it. Values outside reach (nil: everything) are
// parsed just as strictly, so the same documents are accepted, but leave
// nothing behind: the tree holds unreached in their place.
func parseBlockYAML(raw []byte, reach *Reach) (doc *yaml.Node, ok bool) {
	p := blockParser{}
	if !p.splitLines(string(raw)) || len(p.lines) == 0 {
		return nil, false
	}
	p.arena.block = 2*len(p.lines) + 4 // about two nodes a line, some more for a claim
	root, ok := p.node(p.lines[0].indent, reach)
	if !ok || p.next != len(p.lines) {
		return nil, false
	}
	doc = p.newNode(yaml.DocumentNode, 0, "", "", root.Line, root.Column)
	doc.Content = []*yaml.Node{root}
	if p.marked {
		doc.Line, doc.Column = 1, 1 // the document starts at its "---"
	}
	return doc, true
}

// blockLine is one line that holds content: not blank, not a comment.
type blockLine struct {
	Number int    // 1-based
	indent int    // leading spaces
	text   string // after the indentation, without the line break
}

// maxSimpleKey is the YAML limit on the length of a key written without "? ".
const maxSimpleKey = 1024

type blockParser struct {
	lines  []blockLine
	next   int  // index of the first line not yet consumed
	marked bool // the first line is "---"
	arena
}

// arena hands out the nodes of one document, and their content slices,
// from blocks. A collection's children are stacked while it is parsed and
// copied out once it is complete, at its exact length.
type arena struct {
	free  []yaml.Node
	ptrs  []*yaml.Node
	stack []*yaml.Node
	block int // nodes per block
	// discarding is set while a value outside the reach is parsed: its
	// nodes link to nothing, so they all share scratch, which the parser
	// only writes to, or reads right after it made a scalar there.
	discarding bool
	scratch    yaml.Node
}

// keep stacks children of the collection being parsed, unless they are
// discarded.
func (a *arena) keep(nodes ...*yaml.Node) {
	if !a.discarding {
		a.stack = append(a.stack, nodes...)
	}
}

// content returns the children stacked since base, and unstacks them.
func (a *arena) content(base int) []*yaml.Node {
	n := len(a.stack) - base
	if n == 0 {
		return nil
	}
	if len(a.ptrs) < n {
		a.ptrs = make([]*yaml.Node, max(n, a.block))
	}
	c := a.ptrs[:n:n]
	copy(c, a.stack[base:])
	a.ptrs, a.stack = a.ptrs[n:], a.stack[:base]
	return c
}

// newNode returns a node of the given kind, style, tag, value and
// position, its other fields zero (scratch never has them set). The fields
// are set one by one: copying a whole node into the heap costs a write
// barrier for each of its eight pointers while the collector runs.
func (a *arena) newNode(kind yaml.Kind, style yaml.Style, tag, value string, line, column int) *yaml.Node {
	var n *yaml.Node
	switch {
	case a.discarding:
		n = &a.scratch
	case len(a.free) == 0:
		a.free = make([]yaml.Node, max(a.block, 16))
		fallthrough
	default:
		n, a.free = &a.free[0], a.free[1:]
	}
	n.Kind, n.Style, n.Tag, n.Value, n.Line, n.Column = kind, style, tag, value, line, column
	return n
}

// splitLines keeps the content lines, refusing bytes and lines whose
// meaning depends on more than this parser knows.
func (p *blockParser) splitLines(raw string) bool {
	Number := 0
	p.lines = make([]blockLine, 0, strings.Count(raw, "\n")+1)
	for len(raw) > 0 {
		Number++
		line := raw
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c < ' ' || c >= 0x7f || c == '\\' {
				return false // tabs, CR, control and non-ASCII bytes, escapes
			}
		}
		text := strings.TrimLeft(line, " ")
		indent := len(line) - len(text)
		switch {
		case len(text) == 0 || text[0] == '#':
			continue
		case Number == 1 && line == "---":
			p.marked = true // the document start marker Helm writes
			continue
		case indent == 0 && (strings.HasPrefix(text, "---") || strings.HasPrefix(text, "...") || text[0] == '%'):
			return false // markers and directives
		}
		p.lines = append(p.lines, blockLine{Number: Number, indent: indent, text: text})
	}
	return true
}

// node parses the mapping or sequence whose lines start at column indent.
func (p *blockParser) node(indent int, reach *Reach) (*yaml.Node, bool) {
	line := p.lines[p.next]
	if line.indent != indent {
		return nil, false
	}
	if isItem(line.text) {
		return p.sequence(indent, reach)
	}
	return p.mapping(indent, 0, reach)
}

// mapping parses entries at column indent. The first entry may sit after a
// sequence item's "- " (at offset skip into its line).
func (p *blockParser) mapping(indent, skip int, reach *Reach) (*yaml.Node, bool) {
	m := p.newNode(yaml.MappingNode, 0, "!!map", "", 0, 0)
	base := len(p.stack)
	for entries := 0; p.next < len(p.lines); entries++ {
		line := p.lines[p.next]
		text := line.text[skip:]
		if entries > 0 {
			if line.indent < indent || (line.indent == indent && isItem(text)) {
				break
			}
			if line.indent > indent {
				return nil, false
			}
		}
		col := line.indent + skip
		skip = 0
		key, value, ok := p.entry(text, line.Number, col, reach)
		if !ok {
			return nil, false
		}
		if entries == 0 {
			m.Line, m.Column = key.Line, key.Column
		}
		p.keep(key, value)
	}
	m.Content = p.content(base)
	return m, true
}

// entry parses "key: value" or "key:" followed by a nested block, and
// consumes the lines it spans.
func (p *blockParser) entry(text string, Number, col int, reach *Reach) (key, value *yaml.Node, ok bool) {
	colon := strings.Index(text, ": ")
	if colon < 0 && len(text) > 0 && text[len(text)-1] == ':' {
		colon = len(text) - 1
	}
	if colon <= 0 || colon > maxSimpleKey {
		return nil, nil, false
	}
	key, ok = p.plainScalar(text[:colon], Number, col)
	if !ok {
		return nil, nil, false
	}
	p.next++
	child, reached := reach.child(key.Value)
	if !reached && !p.discarding {
		p.discarding = true
		_, _, ok = p.value(key, text, colon, Number, col, nil)
		p.discarding = false
		return key, unreached, ok
	}
	return p.value(key, text, colon, Number, col, child)
}

// value parses what follows the colon of an entry.
func (p *blockParser) value(key *yaml.Node, text string, colon, Number, col int, reach *Reach) (_, value *yaml.Node, ok bool) {
	rest := strings.TrimLeft(text[colon+1:], " ")
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
		value, ok = p.node(next.indent, reach)
		return key, value, ok
	}
	return nil, nil, false
}

// sequence parses "- item" lines at column indent.
func (p *blockParser) sequence(indent int, reach *Reach) (*yaml.Node, bool) {
	seq := p.newNode(yaml.SequenceNode, 0, "!!seq", "", p.lines[p.next].Number, indent+1)
	base := len(p.stack)
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
		item, ok := p.item(line, indent, reach)
		if !ok {
			return nil, false
		}
		p.keep(item)
	}
	seq.Content = p.content(base)
	return seq, true
}

// item parses what follows "- ": a compact mapping, a one-line flow
// collection or a scalar.
func (p *blockParser) item(line blockLine, indent int, reach *Reach) (*yaml.Node, bool) {
	text := line.text[2:]
	if (strings.Contains(text, ": ") || text[len(text)-1] == ':') && !isFlowStart(text[0]) {
		if text[0] == '\'' || text[0] == '"' {
			return nil, false // a quoted string with ": " or a quoted key
		}
		return p.mapping(indent+2, 2, reach)
	}
	p.next++
	return p.scalar(text, line.Number, indent+2, indent)
}

// scalar parses a one-line value at column col of a line whose entry
// starts at column owner: a scalar, or a flow collection that closes on
// the line. A deeper line after it would continue the value, so it is
// refused.
func (p *blockParser) scalar(text string, Number, col, owner int) (*yaml.Node, bool) {
	if p.next < len(p.lines) && p.lines[p.next].indent > owner {
		return nil, false
	}
	if isFlowStart(text[0]) {
		f := flowReader{text: text, line: Number, col: col, arena: &p.arena}
		n, ok := f.node()
		f.spaces()
		return n, ok && f.pos == len(text)
	}
	switch text[0] {
	case '\'':
		return p.quotedScalar(text, '\'', yaml.SingleQuotedStyle, Number, col)
	case '"':
		return p.quotedScalar(text, '"', yaml.DoubleQuotedStyle, Number, col)
	}
	return p.plainScalar(text, Number, col)
}

// plainScalar accepts a plain scalar that cannot mean anything else: no
// indicator first, no ": " or " #" inside, no trailing blank or colon, not
// the merge key "<<" (which the YAML parser tags itself, and which is
// resolved after it).
func (a *arena) plainScalar(text string, Number, col int) (*yaml.Node, bool) {
	if len(text) == 0 || strings.IndexByte("-?:,[]{}#&*!|>'\"%@`", text[0]) >= 0 || text == "<<" ||
		strings.Contains(text, ": ") || strings.Contains(text, " #") ||
		text[len(text)-1] == ' ' || text[len(text)-1] == ':' {
		return nil, false
	}
	n := a.newNode(yaml.ScalarNode, 0, "!!str", text, Number, col+1)
	if mayResolve(text[0]) && !a.discarding {
		n.Tag = "" // let the YAML library resolve it by its own rules
		n.Tag = n.ShortTag()
	}
	return n, true
}

// mayResolve reports whether a plain scalar starting with c can be anything
// but a string: true/false/null in any case, ~, numbers, .inf/.nan. Every
// other first byte makes a string.
func mayResolve(c byte) bool {
	return strings.IndexByte("tTfFnN~.+-0123456789", c) >= 0
}

// quotedScalar accepts a quoted scalar that ends its line.
func (a *arena) quotedScalar(text string, quote byte, style yaml.Style, Number, col int) (*yaml.Node, bool) {
	if len(text) < 2 || text[len(text)-1] != quote {
		return nil, false
	}
	body := text[1 : len(text)-1]
	if quote == '\'' {
		// Inside single quotes a quote is only ever written doubled.
		if strings.IndexByte(strings.ReplaceAll(body, "''", ""), '\'') >= 0 {
			return nil, false
		}
		body = strings.ReplaceAll(body, "''", "'")
	} else if strings.IndexByte(body, '"') >= 0 {
		return nil, false
	}
	return a.newNode(yaml.ScalarNode, style, "!!str", body, Number, col+1), true
}

func isItem(text string) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}
